import type { Knex } from '@rattgllm/core';

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  password_hash: string;
  roles: string[];
  groups: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface PublicUser {
  id: string;
  username: string;
  email: string | null;
  roles: string[];
  groups: string[];
  disabled: boolean;
  createdAt: string;
}

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    roles: row.roles,
    groups: row.groups,
    disabled: row.disabled,
    createdAt: row.created_at.toISOString(),
  };
}

export interface UserChanges {
  email?: string | null;
  roles?: string[];
  groups?: string[];
  passwordHash?: string;
  disabled?: boolean;
}

/** Is this a unique-violation on the named constraint/index? */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (!constraint || e.constraint === constraint);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function usersRepository(db: Knex) {
  return {
    findById(id: string): Promise<UserRow | undefined> {
      // A signed token may still carry a `sub` that is no uuid (another issuer, an old format):
      // that is nobody, not a Postgres type error.
      if (typeof id !== 'string' || !UUID.test(id)) return Promise.resolve(undefined);
      return db<UserRow>('users').where({ id }).first();
    },
    /** The row without waiting, when a cache holds it (cached-repositories.ts); here: never. */
    findByIdNow(_id: string): { value: UserRow | undefined } | undefined {
      return undefined;
    },
    findByUsername(username: string): Promise<UserRow | undefined> {
      return db<UserRow>('users').where({ username: username.toLowerCase() }).first();
    },
    list(): Promise<UserRow[]> {
      return db<UserRow>('users').orderBy('username');
    },
    async create(input: {
      username: string;
      passwordHash: string;
      email?: string | null;
      roles: string[];
      groups: string[];
    }): Promise<UserRow> {
      const [row] = await db<UserRow>('users')
        .insert({
          username: input.username,
          password_hash: input.passwordHash,
          email: input.email ?? null,
          roles: input.roles,
          groups: input.groups,
        })
        .returning('*');
      return row!;
    },
    async update(id: string, changes: UserChanges): Promise<UserRow | undefined> {
      const patch: Partial<UserRow> = { updated_at: new Date() };
      if (changes.email !== undefined) patch.email = changes.email;
      if (changes.roles) patch.roles = changes.roles;
      if (changes.groups) patch.groups = changes.groups;
      if (changes.passwordHash) patch.password_hash = changes.passwordHash;
      if (changes.disabled !== undefined) patch.disabled = changes.disabled;
      const [row] = await db<UserRow>('users').where({ id }).update(patch).returning('*');
      return row;
    },
    async delete(id: string): Promise<boolean> {
      return (await db('users').where({ id }).delete()) > 0;
    },
    /** Active admins other than `exceptId` — the last admin may not lock everybody out. */
    async countOtherActiveAdmins(exceptId: string): Promise<number> {
      const row = await db('users')
        .whereNot({ id: exceptId })
        .andWhere({ disabled: false })
        .andWhereRaw(`'admin' = ANY(roles)`)
        .count<{ count: number }>({ count: '*' })
        .first();
      return row?.count ?? 0;
    },
  };
}
export type UsersRepository = ReturnType<typeof usersRepository>;
