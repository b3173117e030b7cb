import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../gateway/src/build.js';
import { testConfig } from '../../test/support/config.js';
import { startGateway } from '../../test/support/gateway.js';

describe('health, readiness, docs and errors', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startGateway();
  });

  it('GET /health and GET /ready answer ok with a current schema', async () => {
    expect((await app.inject('/health')).json()).toEqual({ status: 'ok' });
    // No Qdrant or Ollama is configured here (their defaults do not resolve): degraded, not down.
    const ready = await app.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { postgres: { status: 'ok' } } });
    expect(ready.json().checks.qdrant.status).toBe('down');
    expect(ready.body).not.toMatch(/qdrant:6333|https?:\/\//);
  });

  it('GET /ready is 503 when Postgres is unreachable', async () => {
    const down = await buildApp(testConfig({ DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none' }));
    try {
      const res = await down.inject('/ready');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'unavailable', checks: { postgres: { status: 'down' } } });
      expect(res.json().checks.postgres.reason).toBeTruthy();
      expect(res.body).not.toMatch(/127\.0\.0\.1|postgres:\/\//);
      // Login against a database that is down is a 503 that says so, without internals.
      const login = await down.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'a', password: 'b' },
      });
      expect(login.statusCode).toBe(503);
      expect(login.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The database is unreachable; try again in a moment',
        code: 'DATABASE_UNAVAILABLE',
      });
    } finally {
      await down.close();
    }
  });

  it('a server-side failure is a 500 that shows no internals', async () => {
    const broken = await startGateway();
    await broken.db.schema.dropTable('audit_log');
    const res = await broken.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'admin', password: 'x' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
      code: 'INTERNAL_ERROR',
    });
    expect(res.body).not.toMatch(/audit_log|relation|select|insert/i);
  });

  it('serves an OpenAPI document generated from the route schemas, and a docs page', async () => {
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/auth/login',
      '/auth/me',
      '/auth/password',
      '/users',
      '/users/{id}',
      '/api-keys',
      '/api-keys/{id}',
      '/health',
      '/ready',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(doc.paths['/auth/login'].post.requestBody.content['application/json'].schema.required).toEqual([
      'username',
      'password',
    ]);
    const page = await app.inject('/docs');
    expect([200, 302]).toContain(page.statusCode);
  });

  it('unknown routes get a JSON 404', async () => {
    const res = await app.inject('/nope?x=1');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Route GET /nope not found',
      code: 'ROUTE_NOT_FOUND',
    });
  });

  it('a body that is not JSON gets 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'text/xml' },
      payload: '<a/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
