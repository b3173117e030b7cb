import { createReadStream, type Stats } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createHash, randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  changeAccess,
  objectKey,
  sanitizeFilename,
  SUPPORTED_TYPES,
  type Access,
  type DocumentRow,
  type SupportedExtension,
} from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { dropRowsFor, refuseDropFile, removeDropDocument, storeDropContent } from '../store.js';
import { admitDropFile, openDropFile } from './admit.js';

export type SyncOutcome = 'queued' | 'unchanged' | 'moved' | 'skipped' | 'failed';

/** Who a drop file's document belongs to, and its name, as the folder says. */
interface Placed {
  relPath: string;
  filename: string;
  ownerId: string | null;
  access: Access;
}

/** Files up to this size are read once, into memory: hashed and stored from the same bytes. */
const READ_ONCE_BYTES = 1024 * 1024;

/** The file's content to store (its bytes when small, else read again as a stream) and its hash. */
async function readContent(path: string, size: number): Promise<{ sha256: string; bytes?: Buffer }> {
  if (size <= READ_ONCE_BYTES) {
    const bytes = await readFile(path);
    return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { sha256: hash.digest('hex') };
}

/**
 * A visible `failed` entry for a file that cannot be indexed (unknown user or group, too large,
 * unsupported type). It has no owner, so only admins see it; nothing of it reaches the index.
 */
async function recordRefusal(deps: IngestorDeps, relPath: string, error: string, size = 0): Promise<void> {
  deps.log.warn({ path: relPath, reason: error }, 'drop folder: file refused');
  const filename = sanitizeFilename(basename(relPath));
  await refuseDropFile(deps.db, deps.boss, { filename, size, source_path: relPath, error });
}

/** Another process (the reconcile pass, a second ingestor) registered the same path first. */
function isDropPathRace(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === 'documents_drop_path_key';
}

/**
 * Bring one drop-folder file into the index: store it and queue an ingest when it is new or
 * its content changed; recognise a moved file by its hash (no re-embedding); refuse what is
 * unsafe or not ours to index, with a logged reason.
 */
export async function syncDropFile(
  deps: IngestorDeps,
  root: string,
  relPath: string,
  /** The file's lstat when the caller just took it (the watcher). */
  known?: Stats,
): Promise<SyncOutcome> {
  try {
    return await syncOnce(deps, root, relPath, known);
  } catch (err) {
    // The watcher and the reconcile pass may meet on a new file: the loser sees the winner's row.
    if (!isDropPathRace(err)) throw err;
    return syncOnce(deps, root, relPath);
  }
}

async function syncOnce(
  deps: IngestorDeps,
  root: string,
  relPath: string,
  known?: Stats,
): Promise<SyncOutcome> {
  const file = await openDropFile(deps, root, relPath, known);
  if (!file) return 'skipped';
  const admission = await admitDropFile(deps, relPath, file.size);
  if (!admission.admitted) {
    await recordRefusal(deps, relPath, admission.reason, file.size);
    return 'failed';
  }
  const placed: Placed = { relPath, ...admission };

  let content: Awaited<ReturnType<typeof readContent>>;
  try {
    content = await readContent(file.abs, file.size);
  } catch (err) {
    await recordRefusal(deps, relPath, `The file could not be read: ${(err as Error).message}`, file.size);
    return 'failed';
  }
  const { sha256 } = content;

  const { existing, sameContent } = await dropRowsFor(deps.db, relPath, sha256);
  if (existing && existing.storage_key && existing.sha256 === sha256) {
    if (existing.owner_id === placed.ownerId && existing.access === placed.access) return 'unchanged';
    // Same bytes, new owner/access (a user or group changed): only the principals change.
    await changeAccess(deps.db, deps.boss, existing.id, { owner_id: placed.ownerId, access: placed.access });
    return 'moved';
  }
  // A rename is an unlink plus an add: find the document of the same bytes whose file is gone.
  if (!existing && (await adoptMovedDocument(deps, root, placed, sameContent))) return 'moved';
  return storeContent(deps, file.abs, placed, content, existing, admission.ext);
}

/** The document of a renamed file (same bytes, old path gone) takes the new path: true when one did. */
async function adoptMovedDocument(
  deps: IngestorDeps,
  root: string,
  placed: Placed,
  sameContent: DocumentRow[],
): Promise<boolean> {
  for (const c of sameContent) {
    if (!c.source_path || c.source_path === placed.relPath) continue;
    const gone = await lstat(resolve(root, c.source_path)).then(
      () => false,
      () => true,
    );
    if (!gone) continue;
    const change = {
      source_path: placed.relPath,
      filename: placed.filename,
      owner_id: placed.ownerId,
      access: placed.access,
    };
    // Another sync may have taken the path meanwhile (unique index): then try the next one.
    const moved = await changeAccess(deps.db, deps.boss, c.id, change).then(Boolean, () => false);
    if (moved) {
      deps.log.info(
        { from: c.source_path, to: placed.relPath, documentId: c.id },
        'drop folder: file moved; not re-embedded',
      );
      return true;
    }
  }
  return false;
}

/** New or changed content: store it, then the row and its ingest job together. */
async function storeContent(
  deps: IngestorDeps,
  abs: string,
  placed: Placed,
  { sha256, bytes }: { sha256: string; bytes?: Buffer },
  existing: DocumentRow | undefined,
  ext: SupportedExtension,
): Promise<SyncOutcome> {
  const { config, log } = deps;
  const id = existing?.id ?? randomUUID();
  const key = existing?.storage_key || objectKey(id, placed.filename);
  const mime = SUPPORTED_TYPES[ext];
  const stored = await deps.storage.put(key, bytes ? Readable.from([bytes]) : createReadStream(abs), {
    contentType: mime,
    limit: config.MAX_UPLOAD_MB * 1024 * 1024,
  });
  if (stored.sha256 !== sha256) {
    // Written to while we read it; the watcher will report the next change.
    log.info({ path: placed.relPath }, 'drop folder: file changed while storing; will retry');
    return 'skipped';
  }
  try {
    await storeDropContent(
      deps.db,
      deps.boss,
      { id, existing: Boolean(existing), relPath: placed.relPath },
      {
        owner_id: placed.ownerId,
        filename: placed.filename,
        mime,
        size: stored.size,
        sha256,
        storage_key: key,
        access: placed.access,
      },
      // In a transaction shared with the other files registered now (write-batcher.ts).
      (row) => deps.writeBatcher.createDocument(deps.db, deps.boss, row),
    );
  } catch (err) {
    if (!existing) await deps.storage.remove(key).catch(() => {});
    throw err;
  }
  log.info(
    { path: placed.relPath, documentId: id },
    existing ? 'drop folder: file changed' : 'drop folder: new file',
  );
  return 'queued';
}

/** The file at `relPath` is gone: its document leaves lists and search now, the rest by a job. */
export async function removeDropFile(deps: IngestorDeps, root: string, relPath: string): Promise<boolean> {
  const exists = await lstat(resolve(root, relPath)).then(
    () => true,
    () => false,
  );
  if (exists) return false;
  const removed = await removeDropDocument(deps.db, deps.boss, relPath);
  if (removed && !removed.refusal)
    deps.log.info({ path: relPath, documentId: removed.id }, 'drop folder: file removed');
  return Boolean(removed);
}
