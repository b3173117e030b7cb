import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';
import { multipart } from '../../test/support/multipart.js';

/** An SSE client over plain HTTP that collects `event: document` payloads. */
function subscribe(base: string, path: string, headers: Record<string, string> = {}) {
  const events: Record<string, unknown>[] = [];
  let raw = '';
  let res: IncomingMessage | undefined;
  const connected = new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { headers: { accept: 'text/event-stream', ...headers } },
      (r) => {
        res = r;
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          raw += chunk;
          if (raw.includes(': connected')) resolve(r.statusCode ?? 0);
          let end: number;
          while ((end = raw.indexOf('\n\n')) >= 0) {
            const block = raw.slice(0, end);
            raw = raw.slice(end + 2);
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (block.includes('event: document') && data) events.push(JSON.parse(data.slice(6)));
          }
        });
        r.on('end', () => resolve(r.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
  return { events, connected, close: () => res?.destroy() };
}

const until = async (check: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('GET /documents/events (SSE, LISTEN/NOTIFY)', () => {
  let app: FastifyInstance;
  let base: string;
  let owner: { id: string; token: string };
  let outsider: { id: string; token: string };
  let docId: string;

  beforeAll(async () => {
    app = await startGateway();
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const adminToken = await login(app, ADMIN.username, ADMIN.password);
    owner = await createUser(app, adminToken, { username: 'sse-owner' });
    outsider = await createUser(app, adminToken, { username: 'sse-outsider' });
    const { payload, headers } = multipart([{ filename: 'live.txt', content: 'live status please' }]);
    const res = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...headers, ...bearer(owner.token) },
      payload,
    });
    docId = res.json().documents[0].id;
  });

  it('delivers a status change made by another process, only to those who may read it', async () => {
    const tokenRes = await app.inject({
      method: 'POST',
      url: '/documents/events/token',
      headers: bearer(owner.token),
    });
    expect(tokenRes.json().expires_in).toBe(60);
    const mine = subscribe(base, `/documents/events?token=${encodeURIComponent(tokenRes.json().token)}`);
    const theirs = subscribe(base, '/documents/events', bearer(outsider.token));
    expect(await mine.connected).toBe(200);
    expect(await theirs.connected).toBe(200);
    try {
      // Another process (a separate Node program with its own connection) changes the row.
      const script = `
        const pg = require('pg');
        const c = new pg.Client({ connectionString: process.argv[1] });
        c.connect().then(() => c.query("update documents set status = 'processing', progress = 0.5 where id = $1", [process.argv[2]])).then(() => c.end());`;
      await promisify(execFile)(process.execPath, ['-e', script, app.config.DATABASE_URL, docId], {
        cwd: process.cwd(),
      });
      await until(() => mine.events.length > 0);
      expect(mine.events[0]).toMatchObject({
        id: docId,
        status: 'processing',
        progress: 0.5,
        filename: 'live.txt',
        op: 'update',
      });
      // Give the outsider's stream the same chance; it must stay silent.
      await new Promise((r) => setTimeout(r, 300));
      expect(theirs.events).toEqual([]);
    } finally {
      mine.close();
      theirs.close();
    }
    await until(() => app.documentEvents.listenerCount('document') === 0);
  });

  it('refuses a login token in the URL, and an events token as a session', async () => {
    const withLoginToken = subscribe(base, `/documents/events?token=${owner.token}`);
    expect(await withLoginToken.connected).toBe(401);
    const eventsToken = (
      await app.inject({ method: 'POST', url: '/documents/events/token', headers: bearer(owner.token) })
    ).json().token;
    const asSession = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(eventsToken) });
    expect(asSession.statusCode).toBe(401);
    const none = subscribe(base, '/documents/events');
    expect(await none.connected).toBe(401);
  });
});
