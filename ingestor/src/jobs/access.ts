import { rowPrincipals } from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { getDocument } from '../store.js';

/** Rewrite who may read a document's passages in the index (PATCH /documents/:id), no re-embedding. */
export async function syncAccess(deps: IngestorDeps, documentId: string): Promise<void> {
  const doc = await getDocument(deps.db, documentId);
  if (!doc) return;
  if (doc.status === 'deleted') {
    await deps.index.deleteDocument(documentId);
    return;
  }
  await deps.index.setPrincipals(documentId, rowPrincipals(doc));
}
