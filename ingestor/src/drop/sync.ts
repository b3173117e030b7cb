import { createReadStream } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  JOBS,
  isSupportedExtension,
  extensionOf,
  objectKey,
  sanitizeFilename,
  sendInTransaction,
  SUPPORTED_TYPES,
  supportedList,
} from '@rattgllm/core';
import { randomUUID } from 'node:crypto';
import type { DocumentRecord, IngestorDeps } from '../deps.js';
import { accessOf, isIgnoredPath, placementOf } from './layout.js';

export type SyncOutcome = 'queued' | 'unchanged' | 'moved' | 'skipped' | 'failed';

const MAX_PATH_BYTES = 1024;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * A visible `failed` entry for a file that cannot be indexed (unknown user or group, too large,
 * unsupported type). It has no owner, so only admins see it; nothing of it reaches the index.
 */
async function recordRefusal(deps: IngestorDeps, relPath: string, error: string, size = 0): Promise<void> {
  deps.log.warn({ path: relPath, reason: error }, 'drop folder: file refused');
  const row = {
    owner_id: null,
    filename: sanitizeFilename(basename(relPath)),
    mime: 'application/octet-stream',
    size,
    sha256: '',
    storage_key: '',
    source: 'drop',
    source_path: relPath,
    access: 'private',
    status: 'failed',
    progress: 0,
    error,
  };
  await deps.db.transaction(async (trx) => {
    const existing = await trx<DocumentRecord>('documents')
      .where({ source: 'drop', source_path: relPath })
      .whereNot({ status: 'deleted' })
      .forUpdate()
      .first();
    if (existing?.storage_key) {
      // It was a real document (e.g. its user was deleted since): take it out of the index first.
      await trx('documents')
        .where({ id: existing.id })
        .update({ status: 'deleted', updated_at: trx.fn.now() });
      await sendInTransaction(deps.boss, trx, JOBS.delete, { documentId: existing.id });
    } else if (existing) {
      await trx('documents')
        .where({ id: existing.id })
        .update({ ...row, updated_at: trx.fn.now() });
      return;
    }
    await trx('documents').insert(row);
  });
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
export async function syncDropFile(deps: IngestorDeps, root: string, relPath: string): Promise<SyncOutcome> {
  try {
    return await syncOnce(deps, root, relPath);
  } catch (err) {
    // The watcher and the reconcile pass may meet on a new file: the loser sees the winner's row.
    if (!isDropPathRace(err)) throw err;
    return syncOnce(deps, root, relPath);
  }
}

async function syncOnce(deps: IngestorDeps, root: string, relPath: string): Promise<SyncOutcome> {
  const { db, log, config } = deps;
  if (isIgnoredPath(relPath)) return 'skipped';
  if (Buffer.byteLength(relPath) > MAX_PATH_BYTES || relPath.split('/').some((s) => s === '..' || s === '')) {
    log.warn({ path: relPath.slice(0, 200) }, 'drop folder: refused an absurd path');
    return 'skipped';
  }
  const abs = resolve(root, relPath);
  let info;
  try {
    info = await lstat(abs);
    if (info.isSymbolicLink()) {
      // A link may point anywhere on the host; follow it only when it stays inside the folder.
      const target = await realpath(abs);
      const rootReal = await realpath(root);
      if (!target.startsWith(rootReal + sep)) {
        log.warn({ path: relPath }, 'drop folder: refused a symlink that leaves the folder');
        return 'skipped';
      }
      info = await stat(abs);
    }
  } catch (err) {
    log.warn({ path: relPath, err }, 'drop folder: file vanished or is unreadable');
    return 'skipped';
  }
  if (!info.isFile()) return 'skipped';

  const filename = sanitizeFilename(basename(relPath));
  const ext = extensionOf(filename);
  if (!isSupportedExtension(ext)) {
    await recordRefusal(
      deps,
      relPath,
      `Files of type .${ext || '(none)'} are not indexed. Supported types: ${supportedList()}`,
      info.size,
    );
    return 'failed';
  }
  if (info.size > config.MAX_UPLOAD_MB * 1024 * 1024) {
    await recordRefusal(
      deps,
      relPath,
      `The file is larger than the limit of ${config.MAX_UPLOAD_MB} MB`,
      info.size,
    );
    return 'failed';
  }
  if (info.size === 0) {
    await recordRefusal(deps, relPath, 'The file is empty', 0);
    return 'failed';
  }

  const placement = placementOf(relPath);
  if (placement.kind === 'invalid') {
    await recordRefusal(deps, relPath, `Not indexed: ${placement.reason}`, info.size);
    return 'failed';
  }
  let ownerId: string | null = null;
  if (placement.kind === 'user') {
    const user = await db('users').where({ username: placement.username }).first('id');
    if (!user) {
      await recordRefusal(
        deps,
        relPath,
        `Not indexed: there is no user "${placement.username}" (folder users/${placement.username}/)`,
        info.size,
      );
      return 'failed';
    }
    ownerId = user.id as string;
  }
  if (placement.kind === 'group') {
    const member = await db('users').whereRaw('? = ANY(groups)', [placement.group]).first('id');
    if (!member) {
      await recordRefusal(
        deps,
        relPath,
        `Not indexed: nobody is in group "${placement.group}" (folder groups/${placement.group}/)`,
        info.size,
      );
      return 'failed';
    }
  }
  const access = accessOf(placement);

  let sha256: string;
  try {
    sha256 = await sha256File(abs);
  } catch (err) {
    await recordRefusal(deps, relPath, `The file could not be read: ${(err as Error).message}`, info.size);
    return 'failed';
  }

  const existing = await db<DocumentRecord>('documents')
    .where({ source: 'drop', source_path: relPath })
    .whereNot({ status: 'deleted' })
    .first();
  if (existing && existing.storage_key && existing.sha256 === sha256) {
    if (existing.owner_id === ownerId && existing.access === access) return 'unchanged';
    // Same bytes, new owner/access (a user or group changed): only the principals change.
    await db.transaction(async (trx) => {
      await trx('documents')
        .where({ id: existing.id })
        .update({ owner_id: ownerId, access, updated_at: trx.fn.now() });
      await sendInTransaction(deps.boss, trx, JOBS.reindex, { documentId: existing.id });
    });
    return 'moved';
  }

  if (!existing) {
    // A rename is an unlink plus an add: find the document of the same bytes whose file is gone.
    const candidates = await db<DocumentRecord>('documents')
      .where({ source: 'drop', sha256 })
      .whereNot({ storage_key: '' })
      // A deleted one may already have lost its stored file to the cleanup job.
      .whereNot({ status: 'deleted' })
      .orderBy('updated_at', 'desc');
    for (const c of candidates) {
      if (!c.source_path || c.source_path === relPath) continue;
      const gone = await lstat(resolve(root, c.source_path)).then(
        () => false,
        () => true,
      );
      if (!gone) continue;
      const moved = await db
        .transaction(async (trx) => {
          const n = await trx('documents')
            .where({ id: c.id })
            .whereNot({ status: 'deleted' })
            .update({ source_path: relPath, filename, owner_id: ownerId, access, updated_at: trx.fn.now() });
          if (!n) return false;
          await sendInTransaction(deps.boss, trx, JOBS.reindex, { documentId: c.id });
          return true;
        })
        .catch(() => false);
      if (moved) {
        log.info(
          { from: c.source_path, to: relPath, documentId: c.id },
          'drop folder: file moved; not re-embedded',
        );
        return 'moved';
      }
    }
  }

  // New or changed content: store it, then the row and its ingest job together.
  const id = existing?.id ?? randomUUID();
  const key = existing?.storage_key || objectKey(id, filename);
  const mime = SUPPORTED_TYPES[ext];
  const stored = await deps.storage.put(key, createReadStream(abs), {
    contentType: mime,
    limit: config.MAX_UPLOAD_MB * 1024 * 1024,
  });
  if (stored.sha256 !== sha256) {
    // Written to while we read it; the watcher will report the next change.
    log.info({ path: relPath }, 'drop folder: file changed while storing; will retry');
    return 'skipped';
  }
  try {
    await db.transaction(async (trx) => {
      const fields = {
        owner_id: ownerId,
        filename,
        mime,
        size: stored.size,
        sha256,
        storage_key: key,
        access,
        status: 'pending',
        progress: 0,
        error: null,
        updated_at: trx.fn.now(),
      };
      if (existing) await trx('documents').where({ id }).update(fields);
      else await trx('documents').insert({ ...fields, id, source: 'drop', source_path: relPath });
      await sendInTransaction(deps.boss, trx, JOBS.ingest, { documentId: id });
    });
  } catch (err) {
    if (!existing) await deps.storage.remove(key).catch(() => {});
    throw err;
  }
  log.info(
    { path: relPath, documentId: id },
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
  return deps.db.transaction(async (trx) => {
    const row = await trx<DocumentRecord>('documents')
      .where({ source: 'drop', source_path: relPath })
      .whereNot({ status: 'deleted' })
      .forUpdate()
      .first();
    if (!row) return false;
    if (!row.storage_key) {
      await trx('documents').where({ id: row.id }).delete(); // a refusal entry: nothing to clean up
      return true;
    }
    await trx('documents').where({ id: row.id }).update({ status: 'deleted', updated_at: trx.fn.now() });
    await sendInTransaction(deps.boss, trx, JOBS.delete, { documentId: row.id });
    deps.log.info({ path: relPath, documentId: row.id }, 'drop folder: file removed');
    return true;
  });
}
