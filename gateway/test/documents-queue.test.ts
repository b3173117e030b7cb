import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { JOBS } from '@rattgllm/core';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';
import { multipart } from '../../test/support/multipart.js';

interface QueueBody {
  items: {
    document: { id: string; filename: string; status: string };
    position: number;
    etaSeconds: number | null;
  }[];
  total: number;
  running: number;
  throughput: { bytesPerSecond: number; documents: number } | null;
}

/** No ingestor runs here: uploads stay queued, so positions and cancels are the gateway's alone. */
describe('the ingestion queue: position, ETA, cancel', () => {
  let app: FastifyInstance;
  let admin: string;
  let bob: { id: string; token: string };
  let carol: { id: string; token: string };
  const ids: Record<string, string> = {};

  const upload = async (token: string, filename: string, bytes: number) => {
    const { payload, headers } = multipart([
      { filename, content: 'x'.repeat(bytes), contentType: 'text/plain' },
    ]);
    const res = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...headers, ...bearer(token) },
      payload,
    });
    expect(res.statusCode).toBe(201);
    ids[filename] = res.json().documents[0].id as string;
  };
  const queue = async (token: string) => {
    const res = await app.inject({ url: '/documents/queue', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return res.json() as QueueBody;
  };
  const cancel = (token: string, id: string) =>
    app.inject({ method: 'POST', url: `/documents/${id}/cancel`, headers: bearer(token) });

  beforeAll(async () => {
    app = await startGateway();
    admin = await login(app, ADMIN.username, ADMIN.password);
    bob = await createUser(app, admin, { username: 'bob' });
    carol = await createUser(app, admin, { username: 'carol' });
    await upload(bob.token, 'first.txt', 1000);
    await upload(carol.token, 'carols.txt', 3000);
    await upload(bob.token, 'second.txt', 2000);
  });

  it('shows each person their own queued documents with their place in the whole queue', async () => {
    const mine = await queue(bob.token);
    expect(mine.total).toBe(3);
    expect(mine.items.map((i) => [i.document.filename, i.position])).toEqual([
      ['first.txt', 1],
      ['second.txt', 3],
    ]);
    // Nothing measured yet: no ETA is made up.
    expect(mine.throughput).toBeNull();
    expect(mine.items.every((i) => i.etaSeconds === null)).toBe(true);
    expect((await queue(admin)).items).toHaveLength(3);
  });

  it('estimates from the measured throughput, counting what is ahead (anyone’s)', async () => {
    // Two runs that took 1 s per 1000 bytes.
    const t = Date.now();
    await app.db('documents').insert(
      [0, 1].map((i) => ({
        owner_id: bob.id,
        filename: `done-${i}.txt`,
        mime: 'text/plain; charset=utf-8',
        size: 1000,
        sha256: String(i).padStart(64, 'f'),
        storage_key: `k/done-${i}`,
        status: 'indexed',
        processing_started_at: new Date(t - 10_000),
        indexed_at: new Date(t - 9_000),
      })),
    );
    const mine = await queue(bob.token);
    expect(mine.throughput).toEqual({ bytesPerSecond: 1000, documents: 2 });
    // first: 1000 B at 1000 B/s; second waits for first and carol's 3000 B too.
    expect(mine.items.map((i) => Math.round(i.etaSeconds!))).toEqual([1, 6]);
  });

  it('refuses bad input, strangers and what is not queued, with a sentence', async () => {
    const bad = await cancel(bob.token, 'not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/id/i);
    const unknown = await cancel(bob.token, '00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    // Carol's private document does not exist for bob; made readable, it is still not his to stop.
    expect((await cancel(bob.token, ids['carols.txt']!)).statusCode).toBe(404);
    await app.db('documents').where({ id: ids['carols.txt'] }).update({ access: 'org' });
    const stranger = await cancel(bob.token, ids['carols.txt']!);
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json().code).toBe('NOT_OWNER');
    const done = (await app.db('documents').where({ filename: 'done-0.txt' }).first('id')).id as string;
    const notQueued = await cancel(bob.token, done);
    expect(notQueued.statusCode).toBe(409);
    expect(notQueued.json()).toMatchObject({
      code: 'NOT_QUEUED',
      message: expect.stringContaining('indexed'),
    });
    const bare = await app.inject({ method: 'POST', url: `/documents/${ids['first.txt']}/cancel` });
    expect(bare.statusCode).toBe(401);
  });

  it('cancels a pending document: the row says so, its job is cancelled, the queue moves up', async () => {
    const res = await cancel(bob.token, ids['first.txt']!);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'cancelled',
      error: expect.stringContaining('Cancelled by bob'),
    });
    const boss = await app.queue();
    const jobs = await boss.findJobs(JOBS.ingest, { key: ids['first.txt']! });
    expect(jobs.map((j) => j.state)).toEqual(['cancelled']);
    const mine = await queue(bob.token);
    expect(mine.total).toBe(2);
    // Carol's document is readable to bob now (org), so he sees it ahead of his.
    expect(mine.items.map((i) => [i.document.filename, i.position])).toEqual([
      ['carols.txt', 1],
      ['second.txt', 2],
    ]);
    // A second cancel has nothing left to stop.
    expect((await cancel(bob.token, ids['first.txt']!)).statusCode).toBe(409);
    // An admin may cancel anyone's.
    expect((await cancel(admin, ids['carols.txt']!)).json().status).toBe('cancelled');
  });

  it('a narrowed key needs the upload scope to cancel, read to look', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api-keys',
      headers: bearer(bob.token),
      payload: { name: 'reader', scopes: ['read'] },
    });
    const key = res.json().key as string;
    expect((await queue(key)).total).toBe(1);
    const refused = await cancel(key, ids['second.txt']!);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('SCOPE_NOT_ALLOWED');
  });
});
