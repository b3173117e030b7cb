import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';
import { multipart } from '../../test/support/multipart.js';

// The `waiting` status (migration 20261201000100): the ingestor sets it while a service the
// document needs is down; the documents API lists, filters and describes it.
describe('documents waiting for a retry', () => {
  let app: FastifyInstance;
  let owner: { id: string; token: string };

  beforeAll(async () => {
    app = await startGateway();
    const adminToken = await login(app, ADMIN.username, ADMIN.password);
    owner = await createUser(app, adminToken, { username: 'wendy' });
  });

  it('shows a waiting document with its reason and next attempt, and filters by it', async () => {
    const { payload, headers } = multipart([{ filename: 'later.md', content: '# Later\n\nSoon.\n' }]);
    const res = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...headers, ...bearer(owner.token) },
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().documents[0].id as string;
    const next = new Date(Date.now() + 60_000);
    const reason = `The embedding service (Ollama) is not answering (OLLAMA_UNAVAILABLE); retry 1 at ${next.toISOString()}`;
    await app
      .db('documents')
      .where({ id })
      .update({ status: 'waiting', error: reason, next_attempt_at: next });

    const one = await app.inject({ method: 'GET', url: `/documents/${id}`, headers: bearer(owner.token) });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({ status: 'waiting', error: reason, nextAttemptAt: next.toISOString() });

    const list = await app.inject({
      method: 'GET',
      url: '/documents?status=waiting',
      headers: bearer(owner.token),
    });
    expect(list.statusCode, list.body).toBe(200);
    const ids = (list.json() as { documents: { id: string }[] }).documents.map((d) => d.id);
    expect(ids).toEqual([id]);

    const pending = await app.inject({
      method: 'GET',
      url: '/documents?status=pending',
      headers: bearer(owner.token),
    });
    const pendingIds = (pending.json() as { documents: { id: string }[] }).documents.map((d) => d.id);
    expect(pendingIds).not.toContain(id);
  });

  it('a document that is not waiting has no next attempt', async () => {
    const { payload, headers } = multipart([{ filename: 'now.md', content: '# Now\n' }]);
    const res = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...headers, ...bearer(owner.token) },
      payload,
    });
    expect(res.json().documents[0]).toMatchObject({ status: 'pending', nextAttemptAt: null });
  });
});
