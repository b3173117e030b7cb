import type { Knex } from '@rattgllm/core';

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  hash: string;
  roles: string[];
  /** null: not narrowed. */
  scopes: string[] | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface PublicApiKey {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  roles: string[];
  scopes: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function toPublicApiKey(row: ApiKeyRow): PublicApiKey {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    roles: row.roles,
    scopes: row.scopes ?? null,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

// Writing last_used_at on every request would turn each read into a write; once a minute is
// precise enough for "is this key still in use?".
const LAST_USED_RESOLUTION_MS = 60_000;

export function apiKeysRepository(db: Knex) {
  return {
    findByPrefix(prefix: string): Promise<ApiKeyRow | undefined> {
      return db<ApiKeyRow>('api_keys').where({ prefix }).first();
    },
    /** For keys whose secret came from the environment in a free format (OPENWEBUI_API_KEY). */
    findByHash(hash: string): Promise<ApiKeyRow | undefined> {
      return db<ApiKeyRow>('api_keys').where({ hash }).first();
    },
    /** The row without waiting, when a cache holds it (cached-repositories.ts); here: never. */
    findByPrefixNow(_prefix: string): { value: ApiKeyRow | undefined } | undefined {
      return undefined;
    },
    findByHashNow(_hash: string): { value: ApiKeyRow | undefined } | undefined {
      return undefined;
    },
    findById(id: string): Promise<ApiKeyRow | undefined> {
      return db<ApiKeyRow>('api_keys').where({ id }).first();
    },
    listForUser(userId: string): Promise<ApiKeyRow[]> {
      return db<ApiKeyRow>('api_keys').where({ user_id: userId }).orderBy('created_at', 'desc');
    },
    /** Every key with its owner's username (admins). */
    listAll(): Promise<(ApiKeyRow & { owner_name: string })[]> {
      return db('api_keys')
        .join('users', 'users.id', 'api_keys.user_id')
        .select('api_keys.*', { owner_name: 'users.username' })
        .orderBy([
          { column: 'api_keys.created_at', order: 'desc' },
          { column: 'api_keys.id', order: 'desc' },
        ]);
    },
    async create(input: {
      userId: string;
      name: string;
      prefix: string;
      hash: string;
      roles: string[];
      scopes?: string[] | null;
      expiresAt: Date | null;
    }): Promise<ApiKeyRow> {
      const [row] = await db<ApiKeyRow>('api_keys')
        .insert({
          user_id: input.userId,
          name: input.name,
          prefix: input.prefix,
          hash: input.hash,
          roles: input.roles,
          scopes: input.scopes ?? null,
          expires_at: input.expiresAt,
        })
        .returning('*');
      return row!;
    },
    async revoke(id: string): Promise<ApiKeyRow | undefined> {
      const [row] = await db<ApiKeyRow>('api_keys')
        .where({ id })
        .update({ revoked_at: db.fn.now() as unknown as Date })
        .returning('*');
      return row;
    },
    async touch(row: ApiKeyRow): Promise<void> {
      if (row.last_used_at && Date.now() - row.last_used_at.getTime() < LAST_USED_RESOLUTION_MS) return;
      await db('api_keys').where({ id: row.id }).update({ last_used_at: db.fn.now() });
    },
  };
}
export type ApiKeysRepository = ReturnType<typeof apiKeysRepository>;
