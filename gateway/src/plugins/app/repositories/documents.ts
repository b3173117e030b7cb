import {
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
