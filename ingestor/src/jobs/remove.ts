import { isLive, purgeDeleted } from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { getDocument, storageKeyShared } from '../store.js';

/**
 * The durable half of a delete: vectors, chunks, the stored file, then the row. Every step is
 * idempotent, so a retry after a crash finishes the job.
 */
export async function removeDocument(deps: IngestorDeps, documentId: string): Promise<'removed' | 'kept'> {
  const doc = await getDocument(deps.db, documentId);
  // Only documents marked deleted are removed (a re-added drop file may have revived it).
  if (isLive(doc)) return 'kept';
  await deps.index.deleteDocument(documentId);
  if (doc?.storage_key) {
    // A drop-folder rename may have handed this object to a new row; never delete a shared key.
    if (!(await storageKeyShared(deps.db, doc.storage_key, documentId)))
      await deps.storage.remove(doc.storage_key);
  }
  await purgeDeleted(deps.db, documentId); // chunks cascade
  deps.log.info({ documentId }, 'removed document');
  return 'removed';
}
