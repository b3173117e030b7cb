import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, resolve, sep } from 'node:path';
import {
  extensionOf,
  isSupportedExtension,
  sanitizeFilename,
  supportedList,
  type Access,
  type SupportedExtension,
} from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { groupHasMembers, userIdByName } from '../store.js';
import { accessOf, isIgnoredPath, placementOf } from './layout.js';

/**
 * Which drop-folder files may be indexed, and as whose: the checks `syncDropFile` runs before it
 * reads a byte of content. Three answers: skip silently (not a file of ours), refuse with a
 * reason a person can act on (shown as a `failed` entry), or admit with owner and access.
 */

const MAX_PATH_BYTES = 1024;
/**
 * A file the reconcile pass finds (no watcher event) may still be being written: a copy in
 * progress when the ingestor starts, or a pass that runs while one lands. Its size and mtime must
 * have stood still this long before its bytes are read — otherwise a half-written file would be
 * indexed, or an empty one refused ("The file is empty") until the watcher corrected it. The
 * watcher's own events come after chokidar's awaitWriteFinish and skip this.
 */
export const DROP_STABLE_MS = 1000;
/** A file still changing after this long is left to the watcher (or the next pass). */
const DROP_SETTLE_MAX_MS = 30_000;

/** A regular file inside the folder (a symlink only when it stays inside), or null to skip. */
export async function openDropFile(
  deps: Pick<IngestorDeps, 'log'>,
  root: string,
  relPath: string,
  /** Its lstat, when the caller has just taken it. */
  known?: Stats,
): Promise<{ abs: string; size: number } | null> {
  const { log } = deps;
  if (isIgnoredPath(relPath)) return null;
  if (Buffer.byteLength(relPath) > MAX_PATH_BYTES || relPath.split('/').some((s) => s === '..' || s === '')) {
    log.warn({ path: relPath.slice(0, 200) }, 'drop folder: refused an absurd path');
    return null;
  }
  const abs = resolve(root, relPath);
  try {
    let info = known ?? (await lstat(abs));
    const linked = info.isSymbolicLink();
    if (linked) {
      // A link may point anywhere on the host; follow it only when it stays inside the folder.
      const target = await realpath(abs);
      const rootReal = await realpath(root);
      if (!target.startsWith(rootReal + sep)) {
        log.warn({ path: relPath }, 'drop folder: refused a symlink that leaves the folder');
        return null;
      }
      info = await stat(abs);
    }
    if (!info.isFile()) return null;
    if (!known) {
      const settled = await untilStable(abs, info, linked ? stat : lstat);
      if (!settled) {
        log.info(
          { path: relPath },
          'drop folder: file still being written; the watcher or the next pass takes it',
        );
        return null;
      }
      info = settled;
    }
    return { abs, size: info.size };
  } catch (err) {
    log.warn({ path: relPath, err }, 'drop folder: file vanished or is unreadable');
    return null;
  }
}

export type Admission =
  | { admitted: true; filename: string; ext: SupportedExtension; ownerId: string | null; access: Access }
  | { admitted: false; reason: string };

/** Type, size and place of the file (its folder names a user or group that must exist). */
export async function admitDropFile(deps: IngestorDeps, relPath: string, size: number): Promise<Admission> {
  const { db, config } = deps;
  const refuse = (reason: string): Admission => ({ admitted: false, reason });
  const filename = sanitizeFilename(basename(relPath));
  const ext = extensionOf(filename);
  if (!isSupportedExtension(ext))
    return refuse(`Files of type .${ext || '(none)'} are not indexed. Supported types: ${supportedList()}`);
  if (size > config.MAX_UPLOAD_MB * 1024 * 1024)
    return refuse(`The file is larger than the limit of ${config.MAX_UPLOAD_MB} MB`);
  if (size === 0) return refuse('The file is empty');

  const placement = placementOf(relPath);
  if (placement.kind === 'invalid') return refuse(`Not indexed: ${placement.reason}`);
  let ownerId: string | null = null;
  if (placement.kind === 'user') {
    ownerId = (await userIdByName(db, placement.username)) ?? null;
    if (!ownerId)
      return refuse(
        `Not indexed: there is no user "${placement.username}" (folder users/${placement.username}/)`,
      );
  }
  if (placement.kind === 'group' && !(await groupHasMembers(db, placement.group)))
    return refuse(`Not indexed: nobody is in group "${placement.group}" (folder groups/${placement.group}/)`);
  return { admitted: true, filename, ext, ownerId, access: accessOf(placement) };
}

/**
 * `info` once the file has stood still for DROP_STABLE_MS: by its mtime's age, or by watching its
 * size and mtime that long (a clock-skewed mtime in the future settles too). Null when it is
 * still changing after DROP_SETTLE_MAX_MS.
 */
async function untilStable(
  abs: string,
  info: Stats,
  statOf: (path: string) => Promise<Stats>,
): Promise<Stats | null> {
  const started = Date.now();
  let last = info;
  let unchangedSince = started;
  while (Date.now() - last.mtimeMs < DROP_STABLE_MS && Date.now() - unchangedSince < DROP_STABLE_MS) {
    if (Date.now() - started > DROP_SETTLE_MAX_MS) return null;
    await new Promise((r) => setTimeout(r, 100));
    const now = await statOf(abs);
    if (now.size !== last.size || now.mtimeMs !== last.mtimeMs) {
      last = now;
      unchangedSince = Date.now();
    }
  }
  return last;
}
