import type { DocumentRecord, IngestorDeps } from '../deps.js';

/**
 * The durable half of a delete: vectors, chunks, the stored file, then the row. Every step is
 * idempotent, so a retry after a crash finishes the job.
 */
export async function removeDocument(deps: IngestorDeps, documentId: string): Promise<'removed' | 'kept'> {
  const doc = await deps.db<DocumentRecord>('documents').where({ id: documentId }).first();
  // Only documents marked deleted are removed (a re-added drop file may have revived it).
  if (doc && doc.status !== 'deleted') return 'kept';
  await deps.index.deleteDocument(documentId);
  if (doc?.storage_key) {
    // A drop-folder rename may have handed this object to a new row; never delete a shared key.
    const others = await deps
      .db('documents')
      .where({ storage_key: doc.storage_key })
      .whereNot({ id: documentId })
      .first('id');
    if (!others) await deps.storage.remove(doc.storage_key);
  }
  await deps.db('documents').where({ id: documentId, status: 'deleted' }).delete(); // chunks cascade
  deps.log.info({ documentId }, 'removed document');
  return 'removed';
}
