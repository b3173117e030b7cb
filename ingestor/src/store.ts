import {
  createDocument,
  markDeleted,
  markIndexed,
  queueIngest,
  recordRefusal,
  removeRefusal,
  whereLive,
  type DocumentContent,
  type DocumentRow,
  type IndexedFields,
  type Knex,
  type NewDocument,
  type PgBoss,
  type Refusal,
} from '@rattgllm/core';

/**
 * All of the ingestor's SQL, as named functions (the habit of pg-boss's one SQL module): jobs,
 * the drop folder and the healing passes call these and never knex. Status changes and the jobs
 * that go with them are core's documents lifecycle (core/src/documents/lifecycle.ts); the
 * functions here that change a status compose it with the ingestor's own reads and locks.
 */

type Db = Knex | Knex.Transaction;

export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}

/** The row whatever its status (a job decides what `deleted` means for it). */
export function getDocument(db: Db, id: string): Promise<DocumentRow | undefined> {
  return db<DocumentRow>('documents').where({ id }).first();
}

/** The rows of these ids that exist, whatever their status (in no particular order). */
export function getDocuments(db: Db, ids: string[]): Promise<DocumentRow[]> {
  return db<DocumentRow>('documents').whereIn('id', ids);
}

// ── ingest ──────────────────────────────────────────────────────────────────────────────────

/** avg(bm25_length) over the indexed passages, and how many there are. */
export async function corpusBm25Stats(db: Db): Promise<{ avg: number | null; n: number }> {
  const row = (await db('chunks')
    .whereNotNull('bm25_length')
    .select(db.raw('avg(bm25_length)::float as avg, count(*)::int as n'))
    .first()) as { avg: number | null; n: number } | undefined;
  return row ?? { avg: null, n: 0 };
}

/** A `chunks` row as an ingest run writes it. */
export interface ChunkRow {
  index: number;
  text: string;
  page: number | null;
  heading: string | null;
  token_count: number;
  bm25_length: number;
  point_id: string;
}

const CHUNK_INSERT_BATCH = 500;

/** What a finished ingest run commits. */
export interface IndexedRun {
  documentId: string;
  chunks: ChunkRow[];
  fields: IndexedFields;
}

/**
 * The end of one or more ingest runs, in one transaction: lock their rows, replace their chunks,
 * mark them `indexed` (one statement each for all of them). Per run, in order: its row as it was
 * under the lock (it may have changed while the run worked: new access), or undefined when it is
 * gone or deleted (then nothing of that run is written).
 */
export function commitIndexed(db: Knex, runs: IndexedRun[]): Promise<(DocumentRow | undefined)[]> {
  return db.transaction(async (trx) => {
    // In id order, so two transactions locking overlapping rows cannot deadlock.
    const locked = await whereLive(
      trx<DocumentRow>('documents').whereIn(
        'id',
        runs.map((r) => r.documentId),
      ),
    )
      .orderBy('id')
      .forUpdate();
    const byId = new Map(locked.map((row) => [row.id, row]));
    const live = runs.filter((r) => byId.has(r.documentId));
    if (live.length) {
      await trx('chunks')
        .whereIn(
          'document_id',
          live.map((r) => r.documentId),
        )
        .delete();
      const rows = live.flatMap((r) => r.chunks.map((c) => ({ ...c, document_id: r.documentId })));
      for (let i = 0; i < rows.length; i += CHUNK_INSERT_BATCH)
        await trx('chunks').insert(rows.slice(i, i + CHUNK_INSERT_BATCH));
      await markIndexed(
        trx,
        live.map((r) => ({ id: r.documentId, fields: r.fields })),
      );
    }
    return runs.map((r) => byId.get(r.documentId));
  });
}

// ── delete ──────────────────────────────────────────────────────────────────────────────────

/** Another row uses this object (a drop-folder rename handed it over): it must not be removed. */
export async function storageKeyShared(db: Db, key: string, exceptId: string): Promise<boolean> {
  return Boolean(await db('documents').where({ storage_key: key }).whereNot({ id: exceptId }).first('id'));
}

// ── the drop folder ─────────────────────────────────────────────────────────────────────────

export async function userIdByName(db: Db, username: string): Promise<string | undefined> {
  const user = (await db('users').where({ username }).first('id')) as { id: string } | undefined;
  return user?.id;
}

export async function groupHasMembers(db: Db, group: string): Promise<boolean> {
  return Boolean(await db('users').whereRaw('? = ANY(groups)', [group]).first('id'));
}

/** The live document of a drop-folder path (at most one: documents_drop_path_key). */
export function dropDocument(
  db: Db,
  relPath: string,
  options: { forUpdate?: boolean } = {},
): Promise<DocumentRow | undefined> {
  const q = whereLive(db<DocumentRow>('documents').where({ source: 'drop', source_path: relPath }));
  return (options.forUpdate ? q.forUpdate() : q).first();
}

/**
 * In one query: the live document at `relPath`, and the live drop documents with these bytes and
 * a stored file, newest first (a renamed file's candidates; a deleted one may already have lost
 * its stored file to the cleanup job).
 */
export async function dropRowsFor(
  db: Db,
  relPath: string,
  sha256: string,
): Promise<{ existing: DocumentRow | undefined; sameContent: DocumentRow[] }> {
  const rows = await whereLive(db<DocumentRow>('documents').where({ source: 'drop' }))
    .where((q) =>
      q.where({ source_path: relPath }).orWhere((c) => c.where({ sha256 }).whereNot({ storage_key: '' })),
    )
    .orderBy('updated_at', 'desc');
  return {
    existing: rows.find((r) => r.source_path === relPath),
    sameContent: rows.filter((r) => r.sha256 === sha256 && r.storage_key !== ''),
  };
}

/** The source paths of every live drop document. */
export async function liveDropPaths(db: Db): Promise<string[]> {
  const rows = await whereLive(db<DocumentRow>('documents').where({ source: 'drop' })).select('source_path');
  return rows.flatMap((r) => (r.source_path ? [r.source_path] : []));
}

/**
 * A refused file's visible `failed` entry at its path. A real document there (e.g. its user was
 * deleted since) is first taken out of the index: marked deleted, with its delete job.
 */
export function refuseDropFile(
  db: Knex,
  boss: PgBoss,
  refusal: Refusal & { source_path: string },
): Promise<void> {
  return db.transaction(async (trx) => {
    const existing = await dropDocument(trx, refusal.source_path, { forUpdate: true });
    if (existing?.storage_key) await markDeleted(trx, boss, existing.id);
    await recordRefusal(trx, refusal, existing && !existing.storage_key ? existing.id : undefined);
  });
}

/**
 * The drop file at `relPath` is gone: its document is marked deleted (with its delete job), or
 * a refusal entry is removed at once. The id of what went, if anything.
 */
export function removeDropDocument(
  db: Knex,
  boss: PgBoss,
  relPath: string,
): Promise<{ id: string; refusal: boolean } | undefined> {
  return db.transaction(async (trx) => {
    const row = await dropDocument(trx, relPath, { forUpdate: true });
    if (!row) return undefined;
    if (!row.storage_key) await removeRefusal(trx, row.id);
    else await markDeleted(trx, boss, row.id);
    return { id: row.id, refusal: !row.storage_key };
  });
}

/**
 * A drop file's new or changed content: a new document, or the existing one pending again, with
 * its ingest job. `create` writes a new one (the watcher shares one statement among files, see
 * write-batcher.ts).
 */
export async function storeDropContent(
  db: Knex,
  boss: PgBoss,
  doc: { id: string; existing: boolean; relPath: string },
  content: DocumentContent & Pick<DocumentRow, 'owner_id' | 'access'>,
  create: (row: NewDocument) => Promise<unknown> = (row) => createDocument(db, boss, row),
): Promise<void> {
  if (doc.existing) await queueIngest(db, boss, doc.id, { content });
  else await create({ ...content, id: doc.id, source: 'drop', source_path: doc.relPath });
}

// ── reconcile and healing ───────────────────────────────────────────────────────────────────

/** Every live document that has a stored file: what the reconcile pass compares. */
export function liveStoredDocuments(db: Db): Promise<DocumentRow[]> {
  return whereLive(db<DocumentRow>('documents')).whereNot({ storage_key: '' });
}

export async function deletedDocumentIds(db: Db): Promise<Set<string>> {
  const rows = await db<DocumentRow>('documents').where({ status: 'deleted' }).select('id');
  return new Set(rows.map((r) => r.id));
}

/** One page of `indexed` documents in id order, after `after` (keyset paging). */
export function indexedPage(
  db: Db,
  after: string,
  limit: number,
): Promise<Pick<DocumentRow, 'id' | 'chunk_count'>[]> {
  return db<DocumentRow>('documents')
    .where({ status: 'indexed' })
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .select('id', 'chunk_count');
}
