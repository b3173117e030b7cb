import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/build.js';
import { signHs256, createHs256Verifier } from '../src/lib/hs256.js';
import { OPENWEBUI_KEY_NAME, OPENWEBUI_USERNAME } from '../src/plugins/app/openwebui.js';
import { bearer, createUser } from '../../test/support/gateway.js';
import { testConfig } from '../../test/support/config.js';
import { OWUI_JWT_SECRET, OWUI_KEY, startRag, type RagEnv } from './rag-support.js';
import { LIVE_OLLAMA } from '../../test/standins/index.js';

const now = () => Math.floor(Date.now() / 1000);
const userJwt = (claims: Record<string, unknown>, secret = OWUI_JWT_SECRET) =>
  signHs256(
    { sub: 'owui-1', name: 'X', role: 'user', iss: 'open-webui', exp: now() + 300, ...claims },
    secret,
  );

/** The documents a chat answer (default pipeline) cites for the caller, sorted by name. */
async function sourceNames(e: RagEnv, headers: Record<string, string>, question: string): Promise<string[]> {
  const res = await e.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers,
    payload: { model: 'rattgllm', messages: [{ role: 'user', content: question }] },
  });
  expect(res.statusCode, res.body).toBe(200);
  const sources = res.json().sources as { source: { name: string } }[];
  return [...new Set(sources.map((s) => s.source.name))].sort();
}

describe('Open WebUI integration', () => {
  let env: RagEnv;
  let bob: { id: string; token: string };

  // What the service key may call is /v1 only, so identities are read off a chat answer's sources.
  const filenames = (headers: Record<string, string>) =>
    sourceNames(env, headers, 'salary bands engineering');

  beforeAll(async () => {
    env = await startRag();
    bob = await createUser(env.app, env.adminToken, {
      username: 'bob',
      groups: ['eng'],
      email: 'Bob@Example.com',
    });
    const ghost = await createUser(env.app, env.adminToken, {
      username: 'ghost',
      email: 'ghost@example.com',
    });
    await env.app.db('users').where({ id: ghost.id }).update({ disabled: true });
    await env.addDocument({
      ownerId: bob.id,
      access: 'private',
      filename: 'bob.txt',
      chunks: ['Salary bands for engineering, bob private.'],
    });
    await env.addDocument({
      ownerId: null,
      access: 'org',
      filename: 'org.txt',
      chunks: ['Salary bands for engineering, for everyone.'],
    });
    await env.addDocument({
      ownerId: null,
      access: 'group:eng',
      filename: 'eng.txt',
      chunks: ['Salary bands for engineering, eng group.'],
    });
  });

  describe('service key from OPENWEBUI_API_KEY', () => {
    it('exists at start as a service key of the "openwebui" user, stored only as a hash', async () => {
      const user = await env.app.db('users').where({ username: OPENWEBUI_USERNAME }).first();
      expect(user.roles).toEqual(['service']);
      const keys = await env.app.db('api_keys').where({ user_id: user.id });
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ name: OPENWEBUI_KEY_NAME, roles: ['service'], revoked_at: null });
      expect(JSON.stringify(keys[0])).not.toContain(OWUI_KEY);
    });

    it('authenticates as Bearer (free-form secret found by hash); /v1/models works', async () => {
      const res = await env.app.inject({ method: 'GET', url: '/v1/models', headers: bearer(OWUI_KEY) });
      expect(res.statusCode, res.body).toBe(200);
      const chat = await sourceNames(env, bearer(OWUI_KEY), 'salary bands engineering');
      expect(chat).toEqual(['org.txt']);
      const bad = await env.app.inject({
        method: 'GET',
        url: '/v1/models',
        headers: bearer('owui-service-secret-WRONG'),
      });
      expect(bad.statusCode).toBe(401);
    });

    it('may call /v1 only: no upload, search, document list or account routes', async () => {
      const form =
        '--b\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n';
      const calls = [
        {
          method: 'POST',
          url: '/upload',
          headers: { 'content-type': 'multipart/form-data; boundary=b' },
          payload: form,
        },
        { method: 'POST', url: '/search', payload: { query: 'salary' } },
        { method: 'GET', url: '/documents' },
        { method: 'GET', url: '/auth/me' },
        { method: 'POST', url: '/api-keys', payload: { name: 'more' } },
      ] as const;
      for (const call of calls) {
        const res = await env.app.inject({
          method: call.method,
          url: call.url,
          headers: { ...bearer(OWUI_KEY), ...('headers' in call ? call.headers : {}) },
          ...('payload' in call ? { payload: call.payload } : {}),
        });
        expect(res.statusCode, `${call.method} ${call.url}: ${res.body}`).toBe(403);
        expect(res.json()).toMatchObject({ code: 'SERVICE_KEY_V1_ONLY' });
      }
      expect(await env.app.db('documents').where({ filename: 'x.txt' })).toEqual([]);
    });

    it('a restart with another secret replaces the key; the old secret stops working; a revoked key is restored', async () => {
      const second = await buildApp(
        testConfig({
          DATABASE_URL: env.app.config.DATABASE_URL,
          OPENWEBUI_API_KEY: 'a-brand-new-secret-value-42',
        }),
      );
      try {
        expect(
          (await second.inject({ method: 'GET', url: '/v1/models', headers: bearer(OWUI_KEY) })).statusCode,
        ).toBe(401);
        const ok = await second.inject({
          method: 'GET',
          url: '/v1/models',
          headers: bearer('a-brand-new-secret-value-42'),
        });
        expect(ok.statusCode).toBe(200);
        await second.db('api_keys').where({ name: OPENWEBUI_KEY_NAME }).update({ revoked_at: new Date() });
      } finally {
        await second.close();
      }
      // Back to the suite's secret (and un-revoked) by the next start.
      const third = await buildApp(
        testConfig({ DATABASE_URL: env.app.config.DATABASE_URL, OPENWEBUI_API_KEY: OWUI_KEY }),
      );
      await third.close();
      expect(
        (await env.app.inject({ method: 'GET', url: '/v1/models', headers: bearer(OWUI_KEY) })).statusCode,
      ).toBe(200);
      expect(await env.app.db('api_keys').where({ name: OPENWEBUI_KEY_NAME }).count('* as n')).toEqual([
        { n: 1 },
      ]);
    });
  });

  describe('signed user header (X-OpenWebUI-User-Jwt)', () => {
    it('valid → that user by email, case-insensitively', async () => {
      expect(
        await filenames({
          ...bearer(OWUI_KEY),
          'x-openwebui-user-jwt': userJwt({ email: 'bob@example.COM' }),
        }),
      ).toEqual(['bob.txt', 'eng.txt', 'org.txt']);
    });

    it.each([
      ['expired', userJwt({ email: 'bob@example.com', exp: now() - 120 })],
      ['wrong secret', userJwt({ email: 'bob@example.com' }, 'another-secret-0123456789abcdef')],
      ['other issuer', userJwt({ email: 'bob@example.com', iss: 'someone-else' })],
      ['no exp', signHs256({ email: 'bob@example.com', iss: 'open-webui' }, OWUI_JWT_SECRET)],
      [
        'alg none',
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"email":"bob@example.com","exp":9999999999}').toString('base64url')}.`,
      ],
      ['garbage', 'not-a-jwt'],
      ['unknown email', userJwt({ email: 'nobody@example.com' })],
      ['disabled user', userJwt({ email: 'ghost@example.com' })],
      ['empty email', userJwt({ email: '' })],
    ])('%s → org documents only', async (_n, token) => {
      expect(await filenames({ ...bearer(OWUI_KEY), 'x-openwebui-user-jwt': token })).toEqual(['org.txt']);
    });

    it('unsigned X-OpenWebUI-User-* headers are ignored by default', async () => {
      expect(
        await filenames({
          ...bearer(OWUI_KEY),
          'x-openwebui-user-email': 'bob@example.com',
          'x-openwebui-user-id': bob.id,
        }),
      ).toEqual(['org.txt']);
    });

    it('a normal user token ignores the header: identity = the token user', async () => {
      const carol = await createUser(env.app, env.adminToken, {
        username: 'carol',
        email: 'carol@example.com',
      });
      expect(
        await filenames({
          ...bearer(carol.token),
          'x-openwebui-user-jwt': userJwt({ email: 'bob@example.com' }),
        }),
      ).toEqual(['org.txt']);
    });

    it('the verifier reports why a token is refused', () => {
      const verify = createHs256Verifier(OWUI_JWT_SECRET, { issuer: 'open-webui' });
      expect(verify(userJwt({ email: 'a' })).ok).toBe(true);
      expect(verify(userJwt({ exp: now() - 60 }))).toEqual({ ok: false, reason: 'expired' });
      expect(createHs256Verifier('x'.repeat(20))(userJwt({}))).toEqual({ ok: false, reason: 'signature' });
    });
  });
});

describe('Open WebUI settings', () => {
  let deny: RagEnv;
  let plain: RagEnv;
  beforeAll(async () => {
    deny = await startRag({ OPENWEBUI_UNKNOWN_USER: 'deny' });
    plain = await startRag({ OPENWEBUI_TRUST_PLAIN_HEADERS: 'true' });
    for (const e of [deny, plain]) {
      await createUser(e.app, e.adminToken, { username: 'bob', email: 'bob@example.com' });
      const bob = await e.app.db('users').where({ username: 'bob' }).first();
      await e.addDocument({
        ownerId: bob.id,
        access: 'private',
        filename: 'bob.txt',
        chunks: ['Holiday rota for bob.'],
      });
      await e.addDocument({
        ownerId: null,
        access: 'org',
        filename: 'org.txt',
        chunks: ['Holiday rota for all.'],
      });
    }
  });
  afterAll(() => undefined);

  const names = (e: RagEnv, headers: Record<string, string>) => sourceNames(e, headers, 'holiday rota');

  // Injects faults into, or reads what was recorded by, the stand-in: skipped against a real Ollama (OLLAMA_URL).
  it.skipIf(LIVE_OLLAMA)(
    'OPENWEBUI_UNKNOWN_USER=deny: an unknown user reads nothing; a known one still reads theirs',
    async () => {
      expect(await names(deny, bearer(OWUI_KEY))).toEqual([]);
      expect(
        await names(deny, {
          ...bearer(OWUI_KEY),
          'x-openwebui-user-jwt': userJwt({ email: 'x@example.com' }),
        }),
      ).toEqual([]);
      expect(
        await names(deny, {
          ...bearer(OWUI_KEY),
          'x-openwebui-user-jwt': userJwt({ email: 'bob@example.com' }),
        }),
      ).toEqual(['bob.txt', 'org.txt']);
      // chat still answers, without context
      const chat = await deny.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: bearer(OWUI_KEY),
        payload: { model: 'rattgllm', messages: [{ role: 'user', content: 'holiday rota' }] },
      });
      expect(chat.statusCode, chat.body).toBe(200);
      expect(chat.json().sources).toEqual([]);
      expect(JSON.stringify(deny.ollama.standin!.chatRequests.at(-1))).not.toContain('Holiday rota');
    },
  );

  it('OPENWEBUI_TRUST_PLAIN_HEADERS=true: the plain email header is used', async () => {
    expect(await names(plain, { ...bearer(OWUI_KEY), 'x-openwebui-user-email': 'BOB@example.com' })).toEqual([
      'bob.txt',
      'org.txt',
    ]);
    expect(await names(plain, bearer(OWUI_KEY))).toEqual(['org.txt']);
  });
});
