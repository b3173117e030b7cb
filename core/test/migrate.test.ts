import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrate, migrationsCurrent, rollbackAll, verifyPassword, type Knex } from '@rattgllm/core';
import { createTestDatabase } from '../../test/support/db.js';

describe('migrations and seed', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Knex;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb({ DATABASE_URL: database.url, DATABASE_POOL_MAX: 4 });
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  it('rolls all the way down and up again (every migration has a down)', async () => {
    await rollbackAll(db);
    const tables = await db.raw(
      `select tablename from pg_tables where schemaname = 'public' and tablename in ('users','documents','chunks','api_keys','audit_log')`,
    );
    expect(tables.rows).toEqual([]);
    expect(await migrationsCurrent(db)).toBe(false);
    const { applied } = await migrate(db, { adminPassword: 'first-password' });
    expect(applied.length).toBeGreaterThan(0);
    expect(await migrationsCurrent(db)).toBe(true);
  });

  it('is idempotent and safe from two processes at once', async () => {
    await rollbackAll(db);
    const other = createDb({ DATABASE_URL: database.url, DATABASE_POOL_MAX: 4 });
    try {
      const results = await Promise.all([
        migrate(db, { adminPassword: 'first-password' }),
        migrate(other, { adminPassword: 'first-password' }),
      ]);
      // Exactly one of them applied the migrations; the other waited and found nothing to do.
      expect(results.map((r) => r.applied.length).sort()).toEqual(
        [0, results[0]!.applied.length + results[1]!.applied.length].sort(),
      );
      const again = await migrate(db, { adminPassword: 'first-password' });
      expect(again.applied).toEqual([]);
      const admins = await db('users').where({ username: 'admin' });
      expect(admins).toHaveLength(1);
    } finally {
      await other.destroy();
    }
  });

  it('seeds admin once and never overwrites its password on restart', async () => {
    const before = await db('users').where({ username: 'admin' }).first();
    expect(before.roles).toEqual(['admin']);
    expect(await verifyPassword(before.password_hash, 'first-password')).toBe(true);
    await migrate(db, { adminPassword: 'some-other-password' });
    const after = await db('users').where({ username: 'admin' }).first();
    expect(after.password_hash).toBe(before.password_hash);
  });

  it('gives the admin ADMIN_EMAIL when it has none, and never overwrites one someone set', async () => {
    await db('users').where({ username: 'admin' }).update({ email: null });
    await migrate(db, { adminPassword: 'first-password', adminEmail: 'admin@rattgllm.localhost' });
    expect((await db('users').where({ username: 'admin' }).first()).email).toBe('admin@rattgllm.localhost');
    await db('users').where({ username: 'admin' }).update({ email: 'Boss@Example.com' });
    await migrate(db, { adminPassword: 'first-password', adminEmail: 'admin@rattgllm.localhost' });
    expect((await db('users').where({ username: 'admin' }).first()).email).toBe('Boss@Example.com');
    // Another account already has the address: the admin keeps none rather than failing the start.
    await db('users').where({ username: 'admin' }).update({ email: null });
    await db('users').insert({
      username: 'taken',
      password_hash: 'x',
      roles: ['user'],
      groups: [],
      email: 'ADMIN@rattgllm.localhost',
    });
    await migrate(db, { adminPassword: 'first-password', adminEmail: 'admin@rattgllm.localhost' });
    expect((await db('users').where({ username: 'admin' }).first()).email).toBeNull();
    await db('users').where({ username: 'taken' }).delete();
  });

  it('seeds a new admin with ADMIN_EMAIL', async () => {
    await db('users').where({ username: 'admin' }).delete();
    await migrate(db, { adminPassword: 'first-password', adminEmail: 'admin@rattgllm.localhost' });
    const admin = await db('users').where({ username: 'admin' }).first();
    expect(admin.email).toBe('admin@rattgllm.localhost');
    expect(admin.roles).toEqual(['admin']);
  });

  it('enforces case-insensitive unique emails and valid document access values', async () => {
    await db('users').insert({ username: 'ann', password_hash: 'x', email: 'Ann@Example.org' });
    await expect(
      db('users').insert({ username: 'ann2', password_hash: 'x', email: 'ann@example.ORG' }),
    ).rejects.toMatchObject({ code: '23505' });
    const owner = await db('users').where({ username: 'ann' }).first();
    const doc = {
      owner_id: owner.id,
      filename: 'a.txt',
      mime: 'text/plain',
      size: 1,
      sha256: 'x',
      storage_key: 'k',
    };
    await expect(db('documents').insert({ ...doc, access: 'everyone' })).rejects.toMatchObject({
      code: '23514',
    });
    await expect(db('documents').insert({ ...doc, access: 'group:Bad Name' })).rejects.toMatchObject({
      code: '23514',
    });
    await db('documents').insert({ ...doc, access: 'group:finance' });
  });
});
