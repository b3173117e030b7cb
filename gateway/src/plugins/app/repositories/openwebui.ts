import type { Knex } from '@rattgllm/core';
import type { UserRow } from './users.js';
import type { ApiKeyRow } from './apiKeys.js';

/** SQL for the Open WebUI integration: its users by email, its service user and named key. */
export function openWebUiRepository(db: Knex) {
  return {
    /** An active or disabled user by email, case-insensitively (the unique index is on lower(email)). */
    findUserByEmail(email: string): Promise<UserRow | undefined> {
      return db<UserRow>('users').whereRaw('lower(email) = lower(?)', [email]).first();
    },

    findUserByUsername(username: string): Promise<UserRow | undefined> {
      return db<UserRow>('users').where({ username }).first();
    },

    async createServiceUser(username: string, passwordHash: string): Promise<UserRow> {
      const [row] = await db<UserRow>('users')
        .insert({ username, password_hash: passwordHash, roles: ['service'], groups: [] })
        .onConflict('username')
        .ignore()
        .returning('*');
      return (row as UserRow | undefined) ?? (await db<UserRow>('users').where({ username }).first())!;
    },

    /**
     * Makes `userId`'s key called `name` exactly (prefix, hash), active and `service`-only:
     * creates it, or rewrites it when the configured secret changed or someone revoked it.
     */
    async upsertNamedKey(
      userId: string,
      name: string,
      prefix: string,
      hash: string,
    ): Promise<'created' | 'updated' | 'unchanged'> {
      return db.transaction(async (trx) => {
        const rows = await trx<ApiKeyRow>('api_keys').where({ user_id: userId, name }).forUpdate();
        const [keep, ...extra] = rows;
        if (extra.length)
          await trx('api_keys')
            .whereIn(
              'id',
              extra.map((r) => r.id),
            )
            .delete();
        if (!keep) {
          await trx('api_keys').insert({ user_id: userId, name, prefix, hash, roles: ['service'] });
          return 'created';
        }
        const same =
          keep.hash === hash &&
          keep.prefix === prefix &&
          !keep.revoked_at &&
          !keep.expires_at &&
          keep.roles.length === 1 &&
          keep.roles[0] === 'service';
        if (same) return 'unchanged';
        await trx('api_keys')
          .where({ id: keep.id })
          .update({ prefix, hash, roles: ['service'], revoked_at: null, expires_at: null });
        return 'updated';
      });
    },
  };
}
export type OpenWebUiRepository = ReturnType<typeof openWebUiRepository>;
