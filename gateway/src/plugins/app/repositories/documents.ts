import {
  QUEUED_STATUSES,
  cancelIndexing,
  changeAccess,
  createDocument,
  markDeleted,
  queueIngest,
  whereLive,
  whereReadable,
  type AccessChange,
  type DocumentRow,
  type DocumentStatus,
  type Knex,
  type NewDocument,
  type PgBoss,
  type Principal,
} from '@rattgllm/core';

export type { DocumentRow, DocumentStatus } from '@rattgllm/core';

export function toPublicDocument(row: DocumentRow) {
  return {
    id: row.id,
    ownerId: row.owner_id,
    filename: row.filename,
    mime: row.mime,
    size: row.size,
    sha256: row.sha256,
    source: row.source,
    sourcePath: row.source_path,
    access: row.access,
    tags: row.tags,
    status: row.status,
    progress: row.progress,
    error: row.error,
    nextAttemptAt: row.next_attempt_at?.toISOString() ?? null,
    chunkCount: row.chunk_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    indexedAt: row.indexed_at?.toISOString() ?? null,
    contentUrl: `/documents/${row.id}/content`,
    ...('owner_name' in row ? { ownerName: (row as ListedDocumentRow).owner_name } : {}),
    stored: row.storage_key !== '',
  };
}
export type PublicDocument = ReturnType<typeof toPublicDocument>;

/** Columns a list can be sorted by, as the API names them. */
export const SORTABLE = {
  createdAt: 'documents.created_at',
  filename: 'documents.filename',
  size: 'documents.size',
  status: 'documents.status',
  owner: 'users.username',
  source: 'documents.source',
} as const;
export type SortKey = keyof typeof SORTABLE;

export interface ListFilter {
  status?: DocumentStatus;
  access?: string;
  tag?: string;
  q?: string;
  sort?: SortKey;
  order?: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** A queued document with its place in the whole queue (1 = next or running) and the work up to it. */
export type QueuedDocumentRow = DocumentRow & {
  owner_name: string | null;
  position: number;
  /** Bytes still to index in its lane (running, or pending) up to and including this document. */
  lane_bytes: number;
  /** Bytes the running documents still have to go. */
  running_bytes: number;
  queue_total: number;
  running_count: number;
};

/** Measured from recent runs: bytes indexed per second by one worker slot. */
export interface Throughput {
  bytesPerSecond: number;
  /** How many runs it is measured from. */
  documents: number;
}

/**
 * The queue in the order the ingestor takes it: running documents, then pending ones by when
 * they were queued, then those waiting for a retry by their next attempt. Positions and sums are
 * over the whole queue (what is ahead of you counts, whoever owns it); rows are the ones `user`
 * may read.
 */
const QUEUE_SQL = `
  SELECT q.*,
    row_number() OVER (ORDER BY lane, queued_at, id) AS position,
    sum(remaining) OVER (PARTITION BY lane ORDER BY queued_at, id ROWS UNBOUNDED PRECEDING)::float AS lane_bytes,
    coalesce(sum(remaining) FILTER (WHERE lane = 0) OVER (), 0)::float AS running_bytes,
    count(*) OVER ()::int AS queue_total,
    count(*) FILTER (WHERE lane = 0) OVER ()::int AS running_count
  FROM (
    SELECT d.*,
      CASE d.status WHEN 'processing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END AS lane,
      CASE d.status WHEN 'waiting' THEN d.next_attempt_at
                    WHEN 'processing' THEN d.processing_started_at ELSE d.updated_at END AS queued_at,
      CASE d.status WHEN 'processing' THEN d.size * (1 - d.progress) ELSE d.size END AS remaining
    FROM documents d WHERE d.status IN (${QUEUED_STATUSES.map((s) => `'${s}'`).join(', ')})
  ) q`;

/** A listed document carries its owner's username (null: no owner, or the owner was deleted). */
export type ListedDocumentRow = DocumentRow & { owner_name: string | null };

export function documentsRepository(db: Knex) {
  return {
    async list(user: Principal, filter: ListFilter): Promise<{ rows: ListedDocumentRow[]; total: number }> {
      const base = whereReadable(db<DocumentRow>('documents'), user);
      if (filter.status) base.where('documents.status', filter.status);
      if (filter.access) base.where('documents.access', filter.access);
      if (filter.tag) base.whereRaw('? = ANY(documents.tags)', [filter.tag]);
      if (filter.q)
        base.whereILike('documents.filename', `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const order = filter.order ?? (filter.sort && filter.sort !== 'createdAt' ? 'asc' : 'desc');
      const column = SORTABLE[filter.sort ?? 'createdAt'];
      const [rows, count] = await Promise.all([
        base
          .clone()
          .leftJoin('users', 'users.id', 'documents.owner_id')
          .select('documents.*', { owner_name: 'users.username' })
          // The id breaks ties, so paging never shows a row twice or skips one.
          .orderByRaw(`${column} ${order} NULLS LAST, documents.id ${order}`)
          .limit(filter.limit)
          .offset(filter.offset),
        base.clone().count<{ count: number }[]>({ count: '*' }),
      ]);
      return { rows: rows as ListedDocumentRow[], total: count[0]?.count ?? 0 };
    },
    /**
     * Of these document ids, the ones the principal may read now (not deleted, access rule of
     * `whereReadable`), optionally only those carrying one of `tags`: retrieval's re-check of
     * vector hits.
     */
    async readableAmong(
      principal: Principal,
      ids: readonly string[],
      tags?: readonly string[],
    ): Promise<Pick<DocumentRow, 'id' | 'filename' | 'tags'>[]> {
      if (ids.length === 0) return [];
      const q = whereReadable(db<DocumentRow>('documents'), principal)
        .whereIn('documents.id', [...ids])
        .select('documents.id', 'documents.filename', 'documents.tags');
      if (tags?.length) q.whereRaw('documents.tags && ?::text[]', [[...tags]]);
      return (await q) as Pick<DocumentRow, 'id' | 'filename' | 'tags'>[];
    },

    /** The ingestion queue as `user` may see it (at most `limit` rows, in queue order). */
    async queue(user: Principal, limit: number): Promise<QueuedDocumentRow[]> {
      const rows = await whereReadable(
        db.with('queued', db.raw(QUEUE_SQL)).from({ documents: 'queued' }),
        user,
      )
        .leftJoin('users', 'users.id', 'documents.owner_id')
        .select('documents.*', { owner_name: 'users.username' })
        .orderBy('documents.position')
        .limit(limit);
      return (rows as QueuedDocumentRow[]).map((r) => ({ ...r, position: Number(r.position) }));
    },
    /** How many documents are queued and running, whoever owns them. */
    async queueCounts(): Promise<{ total: number; running: number }> {
      const row = (await db('documents')
        .whereIn('status', QUEUED_STATUSES)
        .select(
          db.raw('count(*)::int AS total'),
          db.raw(`count(*) FILTER (WHERE status = 'processing')::int AS running`),
        )
        .first()) as { total: number; running: number };
      return row;
    },
    /** Bytes per second per run over the last 50 indexed documents; null before there are any. */
    async throughput(): Promise<Throughput | null> {
      const row = (await db
        .from(
          db('documents')
            .where('status', 'indexed')
            .whereNotNull('processing_started_at')
            .whereRaw('indexed_at > processing_started_at')
            .orderBy('indexed_at', 'desc')
            .limit(50)
            .select('size', 'indexed_at', 'processing_started_at')
            .as('recent'),
        )
        .select(
          db.raw('coalesce(sum(size), 0)::float AS bytes'),
          db.raw(
            'coalesce(sum(extract(epoch FROM indexed_at - processing_started_at)), 0)::float AS seconds',
          ),
          db.raw('count(*)::int AS n'),
        )
        .first()) as { bytes: number; seconds: number; n: number };
      return row.n && row.seconds > 0 ? { bytesPerSecond: row.bytes / row.seconds, documents: row.n } : null;
    },
    /**
     * Stop indexing a queued or running document: `cancelled`, with its jobs cancelled in the
     * same transaction (core's lifecycle). Undefined when it is no longer queued.
     */
    cancel(boss: PgBoss, id: string, byUsername: string): Promise<DocumentRow | undefined> {
      return cancelIndexing(db, boss, id, `Cancelled by ${byUsername}; re-index to index it`);
    },
    async findReadable(user: Principal, id: string): Promise<DocumentRow | undefined> {
      return whereReadable(db<DocumentRow>('documents'), user).where('id', id).first();
    },
    findUploadDuplicate(ownerId: string, sha256: string): Promise<DocumentRow | undefined> {
      return whereLive(
        db<DocumentRow>('documents').where({ owner_id: ownerId, sha256, source: 'upload' }),
      ).first();
    },
    async exists(id: string): Promise<boolean> {
      return Boolean(await db('documents').where({ id }).first('id'));
    },
    // Status changes and their jobs: core's documents lifecycle, shared with the ingestor.
    create(boss: PgBoss, doc: NewDocument): Promise<DocumentRow> {
      return createDocument(db, boss, doc);
    },
    queueIngest(boss: PgBoss, id: string, force: boolean) {
      return queueIngest(db, boss, id, { force });
    },
    changeAccess(boss: PgBoss, id: string, change: AccessChange): Promise<DocumentRow | undefined> {
      return changeAccess(db, boss, id, change);
    },
    markDeleted(boss: PgBoss, id: string): Promise<boolean> {
      return markDeleted(db, boss, id);
    },
  };
}
export type DocumentsRepository = ReturnType<typeof documentsRepository>;
