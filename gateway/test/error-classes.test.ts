import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, classifyError, ServiceUnavailableError } from '@rattgllm/core';
import errorHandler from '../src/plugins/app/error-handler.js';
import { installOpenAiErrors } from '../src/routes/v1/errors.js';
import { classifyRequestError } from '../src/lib/request-error.js';

/**
 * The REST handler and the OpenAI-shaped /v1 handler classify with the same rule (core's
 * classifyError under classifyRequestError): the same error gets the same status and code
 * (upper-case on REST, lower-case on /v1) on both.
 */
const withStatus = (statusCode: number, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { statusCode, ...extra });

const CASES: Record<string, () => unknown> = {
  'plain 502': () => withStatus(502, 'bad gateway from http://10.0.0.7:9000/x'),
  'plain 503': () => withStatus(503, 'Service Unavailable at http://ollama:11434'),
  'plain 504': () => withStatus(504, 'gateway timeout'),
  'plain 503 with retry-after': () => withStatus(503, 'busy', { retryAfter: '7' }),
  'AppError 503': () => new ServiceUnavailableError('Search is down for maintenance', 'SEARCH_DOWN'),
  timeout: () =>
    Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
  unknown: () => new Error('select * from users where password_hash = 1'),
  "Fastify's own 500": () => withStatus(500, 'reply was already sent', { code: 'FST_ERR_REP_ALREADY_SENT' }),
};

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify({ logger: false });
  await app.register(errorHandler);
  app.get<{ Params: { name: string } }>('/rest/:name', async (req) => {
    throw CASES[req.params.name]!();
  });
  app.post('/rest/json', async () => ({ ok: true }));
  await app.register(
    async (v1) => {
      installOpenAiErrors(v1);
      v1.get<{ Params: { name: string } }>('/:name', async (req) => {
        throw CASES[req.params.name]!();
      });
      v1.post('/json', async () => ({ ok: true }));
    },
    { prefix: '/v1' },
  );
  await app.ready();
});
afterAll(() => app.close());

describe('one error classification for REST and /v1', () => {
  for (const name of Object.keys(CASES)) {
    it(`${name}: same status and code on both, no internals in either body`, async () => {
      const url = encodeURIComponent(name);
      const rest = await app.inject(`/rest/${url}`);
      const v1 = await app.inject(`/v1/${url}`);
      expect(v1.statusCode).toBe(rest.statusCode);
      expect(v1.json().error.code).toBe(rest.json().code.toLowerCase());
      expect(v1.headers['retry-after']).toBe(rest.headers['retry-after']);
      for (const body of [rest.body, v1.body])
        expect(body).not.toMatch(/10\.0\.0\.7|ollama:11434|password_hash|select/);
    });
  }

  it("a 502–504 that is not an AppError gets core classifyError's status, code and retryable", async () => {
    for (const [name, status] of [
      ['plain 502', 502],
      ['plain 503', 502],
      ['plain 504', 504],
    ] as const) {
      const err = CASES[name]!();
      const core = classifyError(err);
      expect(classifyRequestError(err)).toMatchObject({
        statusCode: core.statusCode,
        code: core.code,
        retryable: true,
      });
      const rest = await app.inject(`/rest/${encodeURIComponent(name)}`);
      expect(rest.statusCode, name).toBe(status);
      expect(rest.json()).toMatchObject({ statusCode: status, code: core.code });
    }
  });

  it('an upstream retry-after reaches the client; statuses and codes of the other cases', async () => {
    const busy = await app.inject(`/rest/${encodeURIComponent('plain 503 with retry-after')}`);
    expect(busy.headers['retry-after']).toBe('7');
    const expected: Record<string, [number, string]> = {
      'AppError 503': [503, 'SEARCH_DOWN'],
      timeout: [504, 'TIMEOUT'],
      unknown: [500, 'INTERNAL_ERROR'],
      "Fastify's own 500": [500, 'INTERNAL_ERROR'],
    };
    for (const [name, [status, code]] of Object.entries(expected)) {
      const res = await app.inject(`/rest/${encodeURIComponent(name)}`);
      expect([res.statusCode, res.json().code], name).toEqual([status, code]);
    }
    const appErr = await app.inject(`/v1/${encodeURIComponent('AppError 503')}`);
    expect(appErr.json().error).toMatchObject({
      message: 'Search is down for maintenance',
      type: 'api_error',
    });
    expect(classifyRequestError(new AppError(409, 'CONFLICT', 'x')).retryable).toBe(false);
  });

  it("Fastify's request errors get the same stable code on both (invalid JSON)", async () => {
    const send = (url: string) =>
      app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    const rest = await send('/rest/json');
    const v1 = await send('/v1/json');
    expect([rest.statusCode, rest.json().code]).toEqual([400, 'INVALID_JSON']);
    expect([v1.statusCode, v1.json().error.code]).toEqual([400, 'invalid_json']);
  });
});
