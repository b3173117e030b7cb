/**
 * The gateway's hot-path caches (issue #12): a chat turn's API key, user and document access
 * facts come from memory, and every change — made by this gateway, written straight into
 * Postgres by another process, or announced after a LISTEN connection was lost — takes effect
 * on the very next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { bearer, createUser } from '../../test/support/gateway.js';
import { OWUI_JWT_SECRET, OWUI_KEY, startRag, type RagEnv } from './rag-support.js';
import { signHs256 } from '../src/lib/hs256.js';
import type {} from '../src/plugins/app/caches.js';

const QUESTION = 'parking permits for the night shift';

/** SQL statements the gateway sends while `fn` runs. */
async function queriesDuring(app: FastifyInstance, fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onQuery = (q: { sql: string }) => seen.push(q.sql);
  app.db.on('query', onQuery);
  try {
    await fn();
  } finally {
    app.db.off('query', onQuery);
  }
  return seen;
}

async function sources(e: RagEnv, headers: Record<string, string>): Promise<string[]> {
  const res = await e.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers,
    payload: { model: 'rattgllm', messages: [{ role: 'user', content: QUESTION }] },
  });
  expect(res.statusCode, res.body).toBe(200);
  return [
    ...new Set((res.json().sources as { source: { name: string } }[]).map((s) => s.source.name)),
  ].sort();
}

/** A second connection, as the ingestor or psql would write: only NOTIFY tells the gateway. */
let other: pg.Client;

describe('gateway caches', () => {
  let env: RagEnv;
  let carol: { id: string; token: string };
  let docId: string;

  beforeAll(async () => {
    env = await startRag();
    await env.app.caches.ready;
    carol = await createUser(env.app, env.adminToken, {
      username: 'carol',
      groups: ['ops'],
      email: 'carol@example.com',
    });
    docId = await env.addDocument({
      ownerId: null,
      access: 'group:ops',
      filename: 'ops-parking.txt',
      chunks: ['Parking permits for the night shift are issued by the ops desk.'],
    });
    other = new pg.Client({ connectionString: env.app.config.DATABASE_URL });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
  });

  it('is live, and a repeated chat turn reads neither the user nor the document access again', async () => {
    expect(env.app.caches.live).toBe(true);
    expect(await sources(env, bearer(carol.token))).toEqual(['ops-parking.txt']);
    const sql = await queriesDuring(env.app, () => sources(env, bearer(carol.token)));
    expect(sql.filter((q) => /from "users"|from "documents"/.test(q))).toEqual([]);
  });

  it('an access change made by another process takes effect on the next request', async () => {
    expect(await sources(env, bearer(carol.token))).toEqual(['ops-parking.txt']);
    await other.query(`update documents set access = 'private' where id = $1`, [docId]);
    // The NOTIFY arrives on its own connection: give it the moment it takes, then ask at once.
    await waitFor(() => !env.app.caches.documents.has(docId));
    expect(await sources(env, bearer(carol.token))).toEqual([]);
    await other.query(`update documents set access = 'group:ops' where id = $1`, [docId]);
    await waitFor(() => !env.app.caches.documents.has(docId));
    expect(await sources(env, bearer(carol.token))).toEqual(['ops-parking.txt']);
  });

  it('an access change through this gateway takes effect at once, with no wait at all', async () => {
    expect(await sources(env, bearer(carol.token))).toEqual(['ops-parking.txt']);
    const res = await env.app.inject({
      method: 'PATCH',
      url: `/documents/${docId}`,
      headers: bearer(env.adminToken),
      payload: { access: 'private' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await sources(env, bearer(carol.token))).toEqual([]);
    // Removed from her groups instead: the user cache is dropped by the write too.
    await env.app.db('documents').where({ id: docId }).update({ access: 'group:ops' });
    expect(await sources(env, bearer(carol.token))).toEqual(['ops-parking.txt']);
    await env.app.db('users').where({ id: carol.id }).update({ groups: [] });
    expect(await sources(env, bearer(carol.token))).toEqual([]);
    await env.app
      .db('users')
      .where({ id: carol.id })
      .update({ groups: ['ops'] });
  });

  it('a user disabled or deleted by another process is refused on the next request', async () => {
    const dave = await createUser(env.app, env.adminToken, { username: 'dave' });
    const me = () => env.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(dave.token) });
    expect((await me()).statusCode).toBe(200);
    expect((await me()).statusCode).toBe(200);
    await other.query('update users set disabled = true where id = $1', [dave.id]);
    await waitFor(() => !env.app.caches.usersById.has(dave.id));
    expect((await me()).json().code).toBe('ACCOUNT_DISABLED');
    await other.query('delete from users where id = $1', [dave.id]);
    await waitFor(() => !env.app.caches.usersById.has(dave.id));
    expect((await me()).statusCode).toBe(401);
  });

  it('an API key revoked through the API or by another process stops at once', async () => {
    const mk = async () => {
      const res = await env.app.inject({
        method: 'POST',
        url: '/api-keys',
        headers: bearer(carol.token),
        payload: { name: `k-${Math.random()}` },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; key: string };
    };
    const a = await mk();
    const ask = (key: string) => env.app.inject({ method: 'GET', url: '/documents', headers: bearer(key) });
    expect((await ask(a.key)).statusCode).toBe(200);
    expect((await ask(a.key)).statusCode).toBe(200);
    const del = await env.app.inject({
      method: 'DELETE',
      url: `/api-keys/${a.id}`,
      headers: bearer(carol.token),
    });
    expect(del.statusCode, del.body).toBeLessThan(300);
    expect((await ask(a.key)).json().code).toBe('API_KEY_REVOKED');

    const b = await mk();
    expect((await ask(b.key)).statusCode).toBe(200);
    await other.query('update api_keys set revoked_at = now() where id = $1', [b.id]);
    await waitFor(() => env.app.caches.apiKeysByPrefix.size === 0);
    expect((await ask(b.key)).json().code).toBe('API_KEY_REVOKED');
  });

  it('the Open WebUI user behind an email is cached and follows changes', async () => {
    const headers = {
      ...bearer(OWUI_KEY),
      'x-openwebui-user-jwt': signHs256(
        { sub: 'x', email: 'CAROL@example.com', iss: 'open-webui', exp: Math.floor(Date.now() / 1000) + 300 },
        OWUI_JWT_SECRET,
      ),
    };
    expect(await sources(env, headers)).toEqual(['ops-parking.txt']);
    const sql = await queriesDuring(env.app, () => sources(env, headers));
    expect(sql.filter((q) => /from "users"|from "documents"|from "api_keys"/.test(q))).toEqual([]);
    await other.query('update users set disabled = true where id = $1', [carol.id]);
    await waitFor(() => env.app.caches.usersByEmail.size === 0);
    expect(await sources(env, headers)).toEqual([]);
    await other.query('update users set disabled = false where id = $1', [carol.id]);
  });

  it('while the LISTEN connection is down nothing is served from memory, and it heals', async () => {
    expect(await sources(env, bearer(carol.token))).toEqual(['ops-parking.txt']);
    // Kill the gateway's LISTEN backend, as a Postgres restart or a network cut would.
    await other.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query like 'LISTEN%' and pid <> pg_backend_pid()`,
    );
    await waitFor(() => !env.app.caches.live);
    const sql = await queriesDuring(env.app, () => sources(env, bearer(carol.token)));
    expect(sql.some((q) => /from "users"/.test(q))).toBe(true);
    expect(sql.some((q) => /from "documents"/.test(q))).toBe(true);
    await waitFor(() => env.app.caches.live, 15_000);
    await sources(env, bearer(carol.token));
    const again = await queriesDuring(env.app, () => sources(env, bearer(carol.token)));
    expect(again.filter((q) => /from "users"|from "documents"/.test(q))).toEqual([]);
  });
});

describe('gateway caches: a stale user is served while it is read again', () => {
  const TTL = 100;
  let env: RagEnv;
  let locker: pg.Client;
  beforeAll(async () => {
    env = await startRag({ GATEWAY_CACHE_TTL_MS: String(TTL) });
    await env.app.caches.ready;
    locker = new pg.Client({ connectionString: env.app.config.DATABASE_URL });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
  });

  it('past the TTL no request waits for the users read, and a disable still refuses the next one', async () => {
    const erin = await createUser(env.app, env.adminToken, { username: 'erin' });
    const me = () => env.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(erin.token) });
    expect((await me()).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, TTL * 2)); // stale, within the stale window (12 × TTL)
    // The users table is locked: a read of it waits until the transaction ends.
    await locker.query('begin');
    await locker.query('lock table users in access exclusive mode');
    try {
      // Answered from memory while the refresh waits on the lock.
      const res = await Promise.race([me(), new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
      expect(res?.statusCode, 'the request waited for the users read').toBe(200);
      // Disabled by another process, in the same transaction as the lock.
      await locker.query('update users set disabled = true where id = $1', [erin.id]);
    } finally {
      await locker.query('commit');
    }
    await waitFor(() => !env.app.caches.usersById.has(erin.id));
    expect((await me()).json().code).toBe('ACCOUNT_DISABLED');
    expect((await me()).json().code).toBe('ACCOUNT_DISABLED');
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
