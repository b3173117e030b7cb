import { readdir } from 'node:fs/promises';
import { JOBS, sendInTransaction, setStatus } from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { deletedDocumentIds, liveDropPaths, liveStoredDocuments } from '../store.js';
import { indexSignature } from '../pipeline/signature.js';
import { isIgnoredPath } from '../drop/layout.js';
import { removeDropFile, syncDropFile } from '../drop/sync.js';

export interface ReconcileReport {
  scanned: number;
  queued: number;
  removed: number;
  retried: number;
  stale: number;
  missingPoints: number;
  orphanObjects: number;
  missingObjects: number;
}

async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    },
  );
  const files: string[] = [];
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const rel = `${e.parentPath}/${e.name}`.slice(root.length + 1);
    if (!isIgnoredPath(rel)) files.push(rel);
  }
  return files.sort();
}

/**
 * The full comparison of the drop folder, Postgres, object storage and the vector index: index
 * what is new or changed, remove what is gone, retry failures, re-index what is stale (other
 * chunker or model, or points missing from Qdrant). Unchanged documents are not re-embedded
 * unless `force`. Runs at start, every REINDEX_INTERVAL and on `POST /ingest/reindex {all}`.
 */
export async function reconcile(
  deps: IngestorDeps,
  options: { root?: string; force?: boolean; signal?: AbortSignal } = {},
): Promise<ReconcileReport> {
  const { db, log } = deps;
  const report: ReconcileReport = {
    scanned: 0,
    queued: 0,
    removed: 0,
    retried: 0,
    stale: 0,
    missingPoints: 0,
    orphanObjects: 0,
    missingObjects: 0,
  };
  const enqueue = async (documentId: string, force: boolean) => {
    if (await sendInTransaction(deps.boss, db, JOBS.ingest, { documentId, force })) report.queued++;
  };

  // 1. The drop folder: new, changed and moved files; then what disappeared from it.
  if (options.root) {
    const files = await walk(options.root);
    for (const rel of files) {
      options.signal?.throwIfAborted();
      report.scanned++;
      await syncDropFile(deps, options.root, rel).catch((err: unknown) =>
        log.error({ err, path: rel }, 'reconcile: drop file failed'),
      );
    }
    const onDisk = new Set(files);
    for (const path of await liveDropPaths(db))
      if (!onDisk.has(path) && (await removeDropFile(deps, options.root, path))) report.removed++;
  }

  // 2. Documents whose index is missing, failed, stale or incomplete.
  const signature = indexSignature(deps);
  const docs = await liveStoredDocuments(db);
  for (const doc of docs) {
    options.signal?.throwIfAborted();
    // A `waiting` document's delayed job is normally queued already (then this is a no-op);
    // re-queue it in case the job was lost with a restored database.
    if (doc.status === 'pending' || doc.status === 'waiting') await enqueue(doc.id, false);
    else if (doc.status === 'failed') {
      report.retried++;
      await enqueue(doc.id, false);
    } else if (doc.status === 'indexed') {
      if (options.force || doc.index_signature !== signature || doc.indexed_sha256 !== doc.sha256) {
        report.stale++;
        await enqueue(doc.id, true);
      } else if ((await deps.index.countDocumentPoints(doc.id)) !== doc.chunk_count) {
        // e.g. Qdrant's volume was lost or restored from an older snapshot.
        report.missingPoints++;
        await enqueue(doc.id, true);
      }
    }
  }

  // 3. Object storage: files without a document, documents without their file.
  const ids = new Set(docs.map((d) => d.id));
  const deletedIds = await deletedDocumentIds(db);
  // Only objects older than an hour: an upload stores its object a moment before its row exists,
  // and removing it in that moment lost the upload (seen in the fault tests).
  const settledBefore = new Date(Date.now() - 3600_000);
  for await (const key of deps.storage.list('documents/', { modifiedBefore: settledBefore })) {
    const id = key.split('/')[1] ?? '';
    if (ids.has(id) || deletedIds.has(id)) continue;
    await deps.storage.remove(key);
    report.orphanObjects++;
  }
  for (const doc of docs) {
    if (doc.source !== 'upload' || (await deps.storage.stat(doc.storage_key))) continue;
    report.missingObjects++;
    await setStatus(db, doc.id, {
      status: 'failed',
      error: 'The stored file is missing from object storage; upload it again',
    });
  }
  log.info(report, 'reconcile pass done');
  return report;
}
