import { isLive, rowPrincipals } from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { getDocument } from '../store.js';

/**
 * The `document-access` job: rewrite who may read a document's passages in the index (PATCH
 * /documents/:id, a moved or re-owned drop file), no re-embedding.
 */
export async function syncAccess(deps: IngestorDeps, documentId: string): Promise<void> {
  const doc = await getDocument(deps.db, documentId);
  if (!doc) return;
  // Marked deleted meanwhile: its delete job removes the points anyway; do it now, not later.
  if (!isLive(doc)) await deps.index.deleteDocument(documentId);
  else await deps.index.setPrincipals(documentId, rowPrincipals(doc));
}
