import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { hashPassword } from '../passwords.js';
import type { Logger } from '../logger.js';

/** The top-level `migrations/` folder (the same relative place in src/ and dist/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

// An arbitrary constant: every rattgllm process that migrates takes this advisory lock first, so
// two processes starting at once run the migrations one after the other instead of racing on
// knex's own lock table (which makes the loser fail instead of wait).
const MIGRATION_LOCK_KEY = 0x7261_7474;

const migrationConfig: Knex.MigratorConfig = {
  directory: MIGRATIONS_DIR,
  loadExtensions: ['.js'],
  tableName: 'knex_migrations',
};

export interface MigrateOptions {
  adminPassword: string;
  /**
   * The admin's e-mail, set when the account is created and on an admin that has none (the chat
   * site signs people in by e-mail). Never overwrites an address someone set.
   */
  adminEmail?: string | undefined;
  log?: Pick<Logger, 'info'>;
}

/** Bring the schema up to date and seed the admin account if missing. Idempotent. */
export async function migrate(db: Knex, options: MigrateOptions): Promise<{ applied: string[] }> {
  return withAdvisoryLock(db, async () => {
    const [, applied] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
    if (applied.length) options.log?.info({ applied }, 'migrations applied');
    const created = await seedAdmin(db, options.adminPassword, options.adminEmail);
    if (created) options.log?.info('seeded the admin user');
    else if (options.adminEmail && (await giveAdminEmail(db, options.adminEmail)))
      options.log?.info({ email: options.adminEmail }, 'gave the admin user its e-mail address');
    return { applied };
  });
}

export async function rollbackAll(db: Knex): Promise<void> {
  await withAdvisoryLock(db, () => db.migrate.rollback(migrationConfig, true));
}

/** True when every migration in the folder has been applied. */
export async function migrationsCurrent(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list(migrationConfig)) as [unknown[], unknown[]];
  return pending.length === 0;
}

/** Create `admin` only when it is missing: a restart never resets a changed password. */
async function seedAdmin(db: Knex, adminPassword: string, adminEmail?: string): Promise<boolean> {
  const existing = await db('users').where({ username: 'admin' }).first('id');
  if (existing) return false;
  const rows = await db('users')
    .insert({
      username: 'admin',
      password_hash: await hashPassword(adminPassword),
      roles: ['admin'],
      groups: [],
      email: adminEmail && !(await emailTaken(db, adminEmail)) ? adminEmail : null,
    })
    .onConflict('username')
    .ignore()
    .returning('id');
  return rows.length > 0;
}

/** An admin seeded before ADMIN_EMAIL existed gets it, unless someone set one or another user has it. */
async function giveAdminEmail(db: Knex, adminEmail: string): Promise<boolean> {
  if (await emailTaken(db, adminEmail)) return false;
  const updated = await db('users')
    .where({ username: 'admin' })
    .whereNull('email')
    .update({ email: adminEmail });
  return updated > 0;
}

const emailTaken = async (db: Knex, email: string) =>
  Boolean(await db('users').whereRaw('lower(email) = lower(?)', [email]).first('id'));

async function withAdvisoryLock<T>(db: Knex, fn: () => Promise<T>): Promise<T> {
  const conn = await db.client.acquireConnection();
  try {
    await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}
