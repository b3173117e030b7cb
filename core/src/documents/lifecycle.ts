import type { Knex } from '../db/knex.js';
import {
  JOBS,
  cancelIngestJobs,
  sendInTransaction,
  sendManyInTransaction,
  type IngestJob,
  type PgBoss,
} from '../queue.js';
import { QUEUED_STATUSES, whereLive, type DocumentRow, type DocumentStatus } from './row.js';

/**
 * The documents lifecycle, written once for both processes: every change of a row's `status`
 * (and the job that must go with it) is one of these functions. The gateway's documents
 * repository and the ingestor's store call them; nothing else writes `documents.status`.
 *
 * pending ──► processing ──► indexed          (createDocument / queueIngest → setStatus → markIndexed)
 *    ▲            │  ▲
 *    │            ▼  │
 *    └──────── waiting (a dependency is down; scheduleRetry / setStatus)
 * any ──► failed (setStatus; refusals.ts recordRefusal) · any ──► deleted ──► row removed (markDeleted → purgeDeleted)
 * pending | processing | waiting ──► cancelled (cancelIndexing; queueIngest starts it again)
 *
 * A job is enqueued in the transaction that writes its row (pg-boss with the caller's knex
 * transaction), so a row never exists without its job, nor a job without its row.
 */

type Db = Knex | Knex.Transaction;

/** Run `fn` in the caller's transaction when there is one, else in a new one. */
function inTransaction<T>(db: Db, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Knex.Transaction) : db.transaction(fn);
}

function liveRow(db: Db, id: string) {
  return whereLive(db<DocumentRow>('documents').where('documents.id', id));
}

/** The stored content of a document: what a new upload or a changed drop file brings. */
export type DocumentContent = Pick<DocumentRow, 'filename' | 'mime' | 'size' | 'sha256' | 'storage_key'>;

export type NewDocument = DocumentContent &
  Pick<DocumentRow, 'source' | 'access'> &
  Partial<Pick<DocumentRow, 'id' | 'owner_id' | 'source_path' | 'tags'>>;

/** A new document, `pending`, and its ingest job: written together or not at all. */
export async function createDocument(db: Db, boss: PgBoss, doc: NewDocument): Promise<DocumentRow> {
  return (await createDocuments(db, boss, [doc]))[0]!;
}

/** createDocument of several (drop-folder files found together): one insert of the rows, one of the jobs. */
export function createDocuments(db: Db, boss: PgBoss, docs: NewDocument[]): Promise<DocumentRow[]> {
  return inTransaction(db, async (trx) => {
    const rows: DocumentRow[] = await trx<DocumentRow>('documents')
      .insert(docs.map((doc) => ({ ...doc, status: 'pending', progress: 0, error: null })))
      .returning('*');
    const ids = rows.map((r) => ({ documentId: r.id }));
    if (ids.length === 1) await sendInTransaction(boss, trx, JOBS.ingest, ids[0]!);
    else await sendManyInTransaction(boss, trx, JOBS.ingest, ids);
    // In the order asked for (by id where the caller chose one).
    const byId = new Map(rows.map((r) => [r.id, r]));
    return docs.map((d, i) => (d.id ? byId.get(d.id)! : rows[i]!));
  });
}

/**
 * Back to `pending` with an ingest job: a re-index request, new content for the same document
 * (`content`, a changed drop file), or a self-healing re-queue (`onlyFrom: 'indexed'`, with the
 * `reason` shown as its error). Only a live row (or one in `onlyFrom`) is changed, and the job
 * is sent only when it was. `jobId` is null when a job for the document was queued already.
 */
export function queueIngest(
  db: Db,
  boss: PgBoss,
  id: string,
  options: {
    force?: boolean;
    content?: Partial<DocumentContent & Pick<DocumentRow, 'owner_id' | 'access'>>;
    onlyFrom?: DocumentStatus;
    reason?: string;
  } = {},
): Promise<{ updated: boolean; jobId: string | null }> {
  return inTransaction(db, async (trx) => {
    const row: Knex.QueryBuilder = options.onlyFrom
      ? trx('documents').where({ id, status: options.onlyFrom })
      : liveRow(trx, id);
    const n = await row.update({
      ...options.content,
      status: 'pending',
      progress: 0,
      error: options.reason ?? null,
      updated_at: trx.fn.now(),
    });
    if (!n) return { updated: false, jobId: null };
    const job: IngestJob = {
      documentId: id,
      ...(options.force !== undefined ? { force: options.force } : {}),
    };
    return { updated: true, jobId: await sendInTransaction(boss, trx, JOBS.ingest, job) };
  });
}

/** A status change of a live document while (or instead of) processing it; never to `deleted`. */
export interface StatusChange {
  status: Exclude<DocumentStatus, 'deleted'>;
  progress?: number;
  error?: string | null;
  next_attempt_at?: Date | null;
  /** A run begins now (`processing_started_at`, from which the queue view measures throughput). */
  started?: boolean;
}

/**
 * Writes exactly the given fields (and `updated_at`) of a live document, or of several in one
 * statement (runs starting together). False when none was written.
 * A cancelled document is left as it is: the run a person stopped never writes it back to
 * `pending`, `waiting` or `failed` as it winds down.
 */
export async function setStatus(db: Db, id: string | string[], change: StatusChange): Promise<boolean> {
  const { started, ...fields } = change;
  const ids = typeof id === 'string' ? [id] : id;
  return (
    (await whereLive(db<DocumentRow>('documents').whereIn('documents.id', ids))
      .whereNot('documents.status', 'cancelled')
      .update({
        ...fields,
        ...(started ? { processing_started_at: db.fn.now() } : {}),
        updated_at: db.fn.now(),
      })) > 0
  );
}

/**
 * Stop indexing a queued or running document: `cancelled` with `reason`, and every unsettled
 * ingest job of it cancelled, together (a running job stops at its worker's next heartbeat).
 * Undefined when the document is not queued (indexed, failed, cancelled or gone meanwhile).
 */
export function cancelIndexing(
  db: Db,
  boss: PgBoss,
  id: string,
  reason: string,
): Promise<DocumentRow | undefined> {
  return inTransaction(db, async (trx) => {
    const [row] = await trx<DocumentRow>('documents')
      .where({ id })
      .whereIn('status', QUEUED_STATUSES)
      .update({
        status: 'cancelled',
        progress: 0,
        next_attempt_at: null,
        error: reason,
        updated_at: trx.fn.now(),
      })
      .returning('*');
    if (!row) return undefined;
    await cancelIngestJobs(boss, trx, id);
    return row as DocumentRow;
  });
}

/**
 * Progress of a running document (0..1). `updated_at` stays: progress is announced often (the
 * NOTIFY trigger moves the widget's bar) and is not a change of the document.
 */
export async function setProgress(db: Db, id: string, progress: number): Promise<void> {
  await liveRow(db, id).update({ progress });
}

/** What a finished ingest run records with `indexed`. */
export type IndexedFields = Pick<
  DocumentRow,
  'chunk_count' | 'version' | 'indexed_sha256' | 'index_signature' | 'parser' | 'warnings'
>;

/** The SQL type of each IndexedFields column, for reading several runs' fields as one record set. */
const INDEXED_COLUMNS = {
  chunk_count: 'int',
  version: 'int',
  indexed_sha256: 'text',
  index_signature: 'text',
  parser: 'text',
  warnings: 'text[]',
} as const satisfies Record<keyof IndexedFields, string>;

/**
 * `indexed`, with what the current points were made from, for one or more finished runs in one
 * statement (the ingestor commits runs finishing together). Call inside the runs' transaction.
 */
export async function markIndexed(db: Db, runs: { id: string; fields: IndexedFields }[]): Promise<void> {
  if (!runs.length) return;
  const columns = Object.entries(INDEXED_COLUMNS).map(([c, type]) => `${c} ${type}`);
  const v = db.raw(`jsonb_to_recordset(?::jsonb) AS v(id uuid, ${columns.join(', ')})`, [
    JSON.stringify(runs.map((r) => ({ ...r.fields, id: r.id }))),
  ]);
  await whereLive(db<DocumentRow>('documents').updateFrom(v).whereRaw('documents.id = v.id')).update({
    ...Object.fromEntries(Object.keys(INDEXED_COLUMNS).map((c) => [c, db.ref(`v.${c}`)])),
    status: 'indexed',
    progress: 1,
    error: null,
    next_attempt_at: null,
    indexed_at: db.fn.now(),
    updated_at: db.fn.now(),
  });
}

/**
 * A transient failure the worker retries later: the delayed ingest job and the `waiting` row
 * (with the reason and the time of the next attempt) together. When a job for the document is
 * queued already (a change arrived meanwhile) that one runs soon, and the row is `pending`.
 */
export function scheduleRetry(
  db: Db,
  boss: PgBoss,
  job: IngestJob & { retry: NonNullable<IngestJob['retry']> },
  nextAttemptAt: Date,
  reason: string,
): Promise<void> {
  return inTransaction(db, async (trx) => {
    const queued = await sendInTransaction(boss, trx, JOBS.ingest, job, { startAfter: nextAttemptAt });
    await setStatus(
      trx,
      job.documentId,
      queued
        ? {
            status: 'waiting',
            progress: 0,
            error: `${reason}; retry ${job.retry.attempt} at ${nextAttemptAt.toISOString()}`,
            next_attempt_at: nextAttemptAt,
          }
        : { status: 'pending', progress: 0, next_attempt_at: null },
    );
  });
}

/** Who may read it (and its tags or place) changed: the row and the job rewriting the index's principals. */
export type AccessChange = Partial<
  Pick<DocumentRow, 'access' | 'tags' | 'owner_id' | 'filename' | 'source_path'>
>;

/** Undefined when the document is gone (deleted meanwhile): then no job is sent. */
export function changeAccess(
  db: Db,
  boss: PgBoss,
  id: string,
  change: AccessChange,
): Promise<DocumentRow | undefined> {
  return inTransaction(db, async (trx) => {
    const [row] = await liveRow(trx, id)
      .update({ ...change, updated_at: trx.fn.now() })
      .returning('*');
    if (!row) return undefined;
    // The index keeps its own copy of who may read each passage; a durable job rewrites it.
    await sendInTransaction(boss, trx, JOBS.access, { documentId: id });
    return row as DocumentRow;
  });
}

/**
 * Deleted: gone from lists, downloads and search at once; the delete job removes its vectors,
 * chunks, stored file and finally the row (purgeDeleted). False when it was gone already.
 */
export function markDeleted(db: Db, boss: PgBoss, id: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const n = await liveRow(trx, id).update({ status: 'deleted', updated_at: trx.fn.now() });
    if (n) await sendInTransaction(boss, trx, JOBS.delete, { documentId: id });
    return n > 0;
  });
}

/** The last step of a delete: the row (its chunks cascade), only if it is still marked deleted. */
export async function purgeDeleted(db: Db, id: string): Promise<boolean> {
  return (await db('documents').where({ id, status: 'deleted' }).delete()) > 0;
}
