import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
// The gateway's decorators (config, db, repos, auth) typed for tests that use them.
import type {} from '../../gateway/src/plugins/app/repositories.js';
import type {} from '../../gateway/src/plugins/app/auth.js';
import type {} from '../../gateway/src/plugins/app/db.js';
import type {} from '../../gateway/src/plugins/app/config.js';
import type {} from '../../gateway/src/plugins/app/storage.js';
import type {} from '../../gateway/src/plugins/app/events.js';
import type {} from '../../gateway/src/plugins/app/queue.js';
import { buildApp, type BuildOptions } from '../../gateway/src/build.js';
import { createTestDatabase } from './db.js';
import { testConfig } from './config.js';

export const ADMIN = { username: 'admin', password: 'admin-test-password' };

/** The real gateway on a database of this file's own; closed and dropped after the file. */
export async function startGateway(
  overrides: Record<string, string> = {},
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const database = await createTestDatabase();
  // A bucket of its own too: tests list and count stored objects.
  const bucket = `t-${randomBytes(6).toString('hex')}`;
  const app = await buildApp(
    testConfig({ DATABASE_URL: database.url, S3_BUCKET: bucket, ...overrides }),
    options,
  );
  afterAll(async () => {
    await app.close();
    await database.drop();
  });
  return app;
}

export async function login(app: FastifyInstance, username: string, password: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login as ${username} failed: ${res.statusCode} ${res.body}`);
  return res.json().access_token as string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Create a user as admin and return a token for them. */
export async function createUser(
  app: FastifyInstance,
  adminToken: string,
  user: { username: string; password?: string; roles?: string[]; groups?: string[]; email?: string },
): Promise<{ id: string; token: string }> {
  const password = user.password ?? 'password-123';
  const res = await app.inject({
    method: 'POST',
    url: '/users',
    headers: bearer(adminToken),
    payload: { ...user, password },
  });
  if (res.statusCode !== 201) throw new Error(`create ${user.username}: ${res.statusCode} ${res.body}`);
  return { id: res.json().id as string, token: await login(app, user.username, password) };
}
