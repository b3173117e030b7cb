import type { Knex } from '@rattgllm/core';
import type { DocumentRow } from '@rattgllm/core';

/** What the access re-check of vector hits needs to know of a document. */
export type DocumentAccessRow = Pick<
  DocumentRow,
  'id' | 'owner_id' | 'access' | 'status' | 'filename' | 'tags'
>;

/** The access facts of these documents (those that exist), in one query. */
export async function documentAccessRows(db: Knex, ids: readonly string[]): Promise<DocumentAccessRow[]> {
  if (ids.length === 0) return [];
  return db<DocumentRow>('documents')
    .whereIn('id', [...ids])
    .select('id', 'owner_id', 'access', 'status', 'filename', 'tags') as Promise<DocumentAccessRow[]>;
}
