import type { Knex } from '../db/knex.js';
import type { DocumentRow } from './row.js';

/**
 * Drop-folder refusals, part of the documents lifecycle (lifecycle.ts): a file that cannot be
 * indexed is a visible `failed` row with nothing stored and no job, so admins see why.
 */

type Db = Knex | Knex.Transaction;

/** A drop-folder file that cannot be indexed: nothing stored, no job, only admins see it. */
export type Refusal = Pick<DocumentRow, 'filename' | 'size' | 'source_path' | 'error'>;

/**
 * The visible `failed` entry of a refused file: a new row, or `existingId`'s entry rewritten.
 * The caller first marks a real document at the same path deleted (markDeleted).
 */
export async function recordRefusal(db: Db, refusal: Refusal, existingId?: string): Promise<void> {
  const row = {
    ...refusal,
    owner_id: null,
    mime: 'application/octet-stream',
    sha256: '',
    storage_key: '',
    source: 'drop',
    access: 'private',
    status: 'failed',
    progress: 0,
  } as const;
  if (existingId)
    await db('documents')
      .where({ id: existingId })
      .update({ ...row, updated_at: db.fn.now() });
  else await db('documents').insert(row);
}

/** A refusal entry whose file is gone: the row goes at once (nothing was stored or indexed). */
export async function removeRefusal(db: Db, id: string): Promise<void> {
  await db('documents').where({ id, storage_key: '' }).delete();
}
