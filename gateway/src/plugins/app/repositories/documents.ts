import type { Knex } from '@rattgllm/core';
import { isAdmin, type DocumentRow, type DocumentStatus, type Principal } from '@rattgllm/core';

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
  };
}
export type PublicDocument = ReturnType<typeof toPublicDocument>;

/**
 * The access rule of core's `canRead`, as SQL: owner, `org`, or one of the caller's groups;
 * admins read everything. Deleted documents are gone for everybody.
 */
export function whereReadable(query: Knex.QueryBuilder, user: Principal): Knex.QueryBuilder {
  query.whereNot('documents.status', 'deleted');
  if (isAdmin(user)) return query;
  return query.where((q) => {
    q.where('documents.owner_id', user.id).orWhere('documents.access', 'org');
    if (user.groups.length)
      q.orWhereIn(
        'documents.access',
        user.groups.map((g) => `group:${g}`),
      );
  });
}

export interface ListFilter {
  status?: DocumentStatus;
  access?: string;
  tag?: string;
  q?: string;
  limit: number;
  offset: number;
}

export function documentsRepository(db: Knex) {
  return {
    async list(user: Principal, filter: ListFilter): Promise<{ rows: DocumentRow[]; total: number }> {
      const base = whereReadable(db<DocumentRow>('documents'), user);
      if (filter.status) base.where('status', filter.status);
      if (filter.access) base.where('access', filter.access);
      if (filter.tag) base.whereRaw('? = ANY(tags)', [filter.tag]);
      if (filter.q) base.whereILike('filename', `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const [rows, count] = await Promise.all([
        base
          .clone()
          .orderBy([
            { column: 'created_at', order: 'desc' },
            { column: 'id', order: 'desc' },
          ])
          .limit(filter.limit)
          .offset(filter.offset),
        base.clone().count<{ count: number }[]>({ count: '*' }),
      ]);
      return { rows: rows as DocumentRow[], total: count[0]?.count ?? 0 };
    },
    async findReadable(user: Principal, id: string): Promise<DocumentRow | undefined> {
      return whereReadable(db<DocumentRow>('documents'), user).where('id', id).first();
    },
    findUploadDuplicate(ownerId: string, sha256: string, trx: Knex = db): Promise<DocumentRow | undefined> {
      return trx<DocumentRow>('documents')
        .where({ owner_id: ownerId, sha256, source: 'upload' })
        .whereNot('status', 'deleted')
        .first();
    },
    async insert(trx: Knex, row: Partial<DocumentRow>): Promise<DocumentRow> {
      const [inserted] = await trx<DocumentRow>('documents').insert(row).returning('*');
      return inserted as DocumentRow;
    },
    async update(trx: Knex, id: string, patch: Partial<DocumentRow>): Promise<DocumentRow | undefined> {
      const [row] = await trx<DocumentRow>('documents')
        .where({ id })
        .update({ ...patch, updated_at: new Date() })
        .returning('*');
      return row as DocumentRow | undefined;
    },
  };
}
export type DocumentsRepository = ReturnType<typeof documentsRepository>;
