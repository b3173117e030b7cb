/**
 * The bad requests of issue #11 that answered 500, each with its own test, the explicit limits of
 * chat requests, and dependency failures whose bodies must not name internal addresses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser } from '../../test/support/gateway.js';
import { startRag, type RagEnv } from './rag-support.js';
import { INTERNAL_DETAIL } from './internal-detail.js';

/** JSON text nested `depth` arrays deep (built as text: JSON.stringify itself would overflow). */
const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);
const liveQdrant = !!process.env.QDRANT_URL;
const liveOllama = !!process.env.OLLAMA_URL;

describe('bad input is a 4xx (issue #11)', () => {
  let env: RagEnv;
  let token: string;
  const json = (payload: string) => ({
    method: 'POST' as const,
    url: '/v1/chat/completions',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    payload,
  });
  beforeAll(async () => {
    env = await startRag();
    token = (await createUser(env.app, env.adminToken, { username: 'carol' })).token;
  });

  function expectClear4xx(res: { statusCode: number; body: string }, status = 400): void {
    expect(res.statusCode, res.body).toBe(status);
    const body = JSON.parse(res.body) as { message?: string; error?: { message?: string } };
    expect(body.message ?? body.error?.message).toBeTruthy();
    expect(res.body).not.toMatch(INTERNAL_DETAIL);
  }

  it('1. a NUL character in q of GET /documents → 400', async () => {
    const res = await env.app.inject({ url: '/documents?q=inv%00oice', headers: bearer(token) });
    expectClear4xx(res);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'Q must not contain control characters (such as NUL).',
      fields: { q: 'Q must not contain control characters (such as NUL).' },
    });
  });

  it('2. a NUL character in tag of GET /documents → 400', async () => {
    const res = await env.app.inject({ url: '/documents?tag=a%00', headers: bearer(token) });
    expectClear4xx(res);
    expect(res.json().message).toBe('Tag must not contain control characters (such as NUL).');
  });

  it('3. an offset far beyond any row count (1e20) → 400 naming the bound', async () => {
    const res = await env.app.inject({ url: '/documents?offset=1e20', headers: bearer(token) });
    expectClear4xx(res);
    expect(res.json().message).toMatch(/offset must be at most \d+/i);
    // A large offset that is still a number Postgres can take is an empty page, not an error.
    const far = await env.app.inject({ url: '/documents?offset=999999999', headers: bearer(token) });
    expect(far.statusCode).toBe(200);
    expect(far.json().documents).toEqual([]);
  });

  it('4. a multipart body with a broken boundary → 400', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...bearer(token), 'content-type': 'multipart/form-data; boundary=abc' },
      payload: '--abc\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--ab',
    });
    expectClear4xx(res);
    expect(res.json().code).toBe('INVALID_MULTIPART');
    expect(await env.app.db('documents').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('5. a multipart content type without any boundary → 400', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...bearer(token), 'content-type': 'multipart/form-data' },
      payload: 'hello',
    });
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(res.body).not.toMatch(INTERNAL_DETAIL);
  });

  it('6. chat: deeply nested JSON in a pass-through field → 400 nesting_too_deep', async () => {
    const res = await env.app.inject(
      json(`{"model":"rattgllm","messages":[{"role":"user","content":"hi"}],"metadata":${nested(20_000)}}`),
    );
    expectClear4xx(res);
    expect(res.json().error).toMatchObject({ code: 'nesting_too_deep', type: 'invalid_request_error' });
    expect(res.json().error.message).toMatch(/more than 64 levels/);
  });

  it('7. chat: deeply nested JSON inside a message → 400 nesting_too_deep', async () => {
    const res = await env.app.inject(
      json(`{"model":"rattgllm","messages":[{"role":"user","content":"hi","extra":${nested(20_000)}}]}`),
    );
    expectClear4xx(res);
    expect(res.json().error.code).toBe('nesting_too_deep');
  });

  it('8. a correctly signed token whose sub is not a uuid → 401, header and ?token= alike', async () => {
    const session = env.app.jwt.sign({ sub: 'not-a-uuid', username: 'x', roles: ['admin'] });
    const res = await env.app.inject({ url: '/auth/me', headers: bearer(session) });
    expectClear4xx(res, 401);
    expect(res.json().code).toBe('INVALID_TOKEN');
    const sse = env.app.jwt.sign({ sub: "1' or '1'='1", username: 'x', roles: [], scope: 'sse' });
    const stream = await env.app.inject({ url: `/documents/events?token=${encodeURIComponent(sse)}` });
    expectClear4xx(stream, 401);
  });

  it('chat nesting within the limit still reaches the upstream', async () => {
    const before = env.ollama.standin?.chatRequests.length ?? 0;
    const res = await env.app.inject({
      ...json(`{"model":"rattgllm","messages":[{"role":"user","content":"hi"}],"metadata":${nested(60)}}`),
      headers: { ...bearer(token), 'content-type': 'application/json', 'x-openwebui-task': 'title' },
    });
    expect(res.statusCode, res.body).toBe(200);
    if (env.ollama.standin) expect(env.ollama.standin.chatRequests.length).toBe(before + 1);
  });

  it('chat: a body over the 16 MiB size limit → 400 request_too_large', async () => {
    const big = 'x'.repeat(16 * 1024 * 1024);
    const res = await env.app.inject(
      json(`{"model":"rattgllm","messages":[{"role":"user","content":"${big}"}]}`),
    );
    expectClear4xx(res);
    expect(res.json().error).toMatchObject({ code: 'request_too_large', type: 'invalid_request_error' });
    expect(res.json().error.message).toMatch(/16 MiB/);
  });

  describe('502/503 bodies name no internal address', () => {
    const search = () =>
      env.app.inject({ method: 'POST', url: '/search', headers: bearer(token), payload: { query: 'q' } });

    it.skipIf(liveQdrant)('Qdrant down → 503 (fault injection: skipped against a real Qdrant)', async () => {
      await env.qdrant.standin!.setDown(true);
      try {
        const res = await search();
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({
          code: 'QDRANT_UNAVAILABLE',
          message: 'Qdrant refused the connection',
        });
        expect(res.body).not.toMatch(INTERNAL_DETAIL);
        expect(res.body).not.toContain(env.qdrant.url);
      } finally {
        await env.qdrant.standin!.setDown(false);
      }
    });

    it.skipIf(liveOllama)(
      'Ollama down → 503/502 (fault injection: skipped against a real Ollama)',
      async () => {
        await env.ollama.standin!.setDown(true);
        try {
          const res = await search();
          expect(res.statusCode).toBe(503);
          expect(res.json().message).toBe('Ollama refused the connection');
          const chat = await env.app.inject(
            json('{"model":"rattgllm","messages":[{"role":"user","content":"travel"}]}'),
          );
          expect(chat.statusCode).toBe(502);
          for (const body of [res.body, chat.body]) {
            expect(body).not.toMatch(INTERNAL_DETAIL);
            expect(body).not.toContain(env.ollama.url);
          }
        } finally {
          await env.ollama.standin!.setDown(false);
        }
      },
    );

    it.skipIf(liveOllama)(
      "an upstream error that names its runner's address → 502 without it (fault injection)",
      async () => {
        // Ollama's own words when its runner dies: `do embedding request: Post "http://127.0.0.1:…": EOF`.
        env.ollama.standin!.failWith(
          500,
          'do embedding request: Post "http://127.0.0.1:39213/embedding": EOF',
          1,
        );
        const res = await env.app.inject({
          ...json('{"model":"rattgllm","messages":[{"role":"user","content":"travel"}]}'),
          headers: { ...bearer(token), 'content-type': 'application/json', 'x-openwebui-task': 'tags' },
        });
        expect(res.statusCode).toBe(502);
        expect(res.json().error.message).toMatch(/do embedding request: Post "\(internal address\)": EOF/);
        expect(res.body).not.toMatch(INTERNAL_DETAIL);
      },
    );
  });
});
