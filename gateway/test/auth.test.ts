import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';
import { TEST_JWT_SECRET, testConfig } from '../../test/support/config.js';
import { buildApp } from '../../gateway/src/build.js';

const b64url = (v: object | string) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function signHs256(payload: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const body = `${b64url(header)}.${b64url(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

describe('auth', () => {
  let app: FastifyInstance;
  let adminToken: string;
  let alice: { id: string; token: string };

  beforeAll(async () => {
    app = await startGateway();
    adminToken = await login(app, ADMIN.username, ADMIN.password);
    alice = await createUser(app, adminToken, {
      username: 'alice',
      groups: ['finance'],
      email: 'alice@example.org',
    });
  });

  it('logs in with the documented response shape and an HS256 token', async () => {
    const res = await app.inject({ method: 'POST', url: '/auth/login', payload: ADMIN });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      token_type: 'bearer',
      expires_in: 12 * 3600,
      user: { username: 'admin', roles: ['admin'], groups: [] },
    });
    const [header, payload] = (body.access_token as string)
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString() || '{}'));
    expect(header.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: body.user.id, username: 'admin', roles: ['admin'] });
    expect(payload.exp - payload.iat).toBe(12 * 3600);
  });

  it('answers wrong password and unknown user with the same 401', async () => {
    const wrong = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'admin', password: 'nope-nope' },
    });
    const unknown = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'nobody', password: 'nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toMatchObject({
      code: 'INVALID_CREDENTIALS',
      message: 'Wrong username or password',
    });
  });

  it('takes about the same time for an unknown user as for a wrong password', async () => {
    const time = async (username: string) => {
      const t0 = performance.now();
      await app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username, password: 'wrong-password' },
      });
      return performance.now() - t0;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time('alice'));
      unknown.push(await time(`ghost${i}`));
    }
    // Both run one argon2id verification; without the dummy hash the unknown user would be ~10x faster.
    expect(median(unknown) / median(known)).toBeGreaterThan(0.5);
    expect(median(unknown) / median(known)).toBeLessThan(2);
  });

  it('rejects malformed JSON, missing fields and wrong types with 400 and a code', async () => {
    const malformed = await app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "admin",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_JSON' });
    const missing = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'admin' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(missing.json().message).toBe('Password is required.');
    expect(missing.json().fields).toEqual({ password: 'Password is required.' });
    const wrongType = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: ['admin'], password: 'x' },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().code).toBe('VALIDATION_ERROR');
  });

  it('GET /auth/me returns the caller, and the insecure-defaults flag only to admins', async () => {
    const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(alice.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      id: alice.id,
      username: 'alice',
      groups: ['finance'],
      roles: ['user'],
      via: 'jwt',
    });
    expect(me.json().security).toBeUndefined();
    const adminMe = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(adminToken) });
    // The suite uses safe secrets except MinIO's, which s3rver forces on us.
    expect(adminMe.json().security.insecureDefaults).toEqual(expect.any(Array));
  });

  describe('rejected tokens', () => {
    const cases: [string, () => string, string][] = [
      [
        'expired',
        () =>
          signHs256(
            { sub: 'x', username: 'alice', roles: ['user'], iat: now() - 100, exp: now() - 10 },
            TEST_JWT_SECRET,
          ),
        'TOKEN_EXPIRED',
      ],
      [
        'signed with another secret',
        () =>
          signHs256(
            { sub: 'x', username: 'a', roles: ['admin'], iat: now(), exp: now() + 60 },
            'another-secret-entirely',
          ),
        'INVALID_TOKEN',
      ],
      [
        'alg none',
        () =>
          `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'x', roles: ['admin'], iat: now(), exp: now() + 60 })}.`,
        'INVALID_TOKEN',
      ],
      ['garbage', () => 'not.a.jwt', 'INVALID_TOKEN'],
      ['unknown API key', () => `rk_abcdefgh_${'x'.repeat(43)}`, 'INVALID_API_KEY'],
    ];
    it.each(cases)('%s → 401', async (_name, token, code) => {
      const res = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token()) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', code });
    });

    it('a correctly signed token for a user that does not exist → 401', async () => {
      const token = signHs256(
        {
          sub: '00000000-0000-4000-8000-000000000000',
          username: 'ghost',
          roles: ['admin'],
          iat: now(),
          exp: now() + 60,
        },
        TEST_JWT_SECRET,
      );
      const res = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) });
      expect(res.statusCode).toBe(401);
    });

    it('no header, or not a Bearer header → 401', async () => {
      const none = await app.inject({ method: 'GET', url: '/auth/me' });
      expect(none.statusCode).toBe(401);
      expect(none.json().code).toBe('MISSING_TOKEN');
      const basic = await app.inject({
        method: 'GET',
        url: '/auth/me',
        headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
      });
      expect(basic.statusCode).toBe(401);
    });
  });

  it('changes the own password only with the right current one', async () => {
    const bob = await createUser(app, adminToken, { username: 'bob', password: 'bob-password-1' });
    const wrong = await app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: bearer(bob.token),
      payload: { currentPassword: 'nope', newPassword: 'bob-password-2' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('WRONG_PASSWORD');
    const short = await app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: bearer(bob.token),
      payload: { currentPassword: 'bob-password-1', newPassword: 'short' },
    });
    expect(short.statusCode).toBe(400);
    const ok = await app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: bearer(bob.token),
      payload: { currentPassword: 'bob-password-1', newPassword: 'bob-password-2' },
    });
    expect(ok.statusCode).toBe(204);
    await expect(login(app, 'bob', 'bob-password-1')).rejects.toThrow(/401/);
    await login(app, 'bob', 'bob-password-2');
  });

  it('records sign-ins and failures in the audit log', async () => {
    const rows: { action: string; actor_name: string; details: Record<string, string> }[] = await app
      .db('audit_log')
      .whereIn('action', ['auth.login', 'auth.login_failed']);
    expect(rows.some((r) => r.action === 'auth.login' && r.actor_name === 'admin')).toBe(true);
    expect(rows.some((r) => r.action === 'auth.login_failed' && r.details.username === 'nobody')).toBe(true);
  });
});

describe('login rate limit', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await startGateway({ LOGIN_RATE_LIMIT_MAX: '3', LOGIN_RATE_LIMIT_WINDOW: '60s' });
  });

  it('limits attempts per username, with retry-after, even from different IPs', async () => {
    const attempt = (ip: string) =>
      app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: ip,
        payload: { username: 'admin', password: 'guess-guess' },
      });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect((await attempt(ip)).statusCode).toBe(401);
    const limited = await attempt('10.0.0.4');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    // The right password does not get through either while the name is limited.
    const right = await app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: '10.0.0.5',
      payload: ADMIN,
    });
    expect(right.statusCode).toBe(429);
  });

  it('limits attempts per IP across usernames', async () => {
    const attempt = (n: number) =>
      app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: '10.9.9.9',
        payload: { username: `user${n}`, password: 'guess-guess' },
      });
    for (let i = 0; i < 3; i++) expect((await attempt(i)).statusCode).toBe(401);
    const limited = await attempt(99);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json().code).toBe('RATE_LIMITED');
  });
});

describe('login rate limit shared by several gateways (counts in Postgres)', () => {
  let a: FastifyInstance;
  let b: FastifyInstance;
  beforeAll(async () => {
    a = await startGateway({ LOGIN_RATE_LIMIT_MAX: '4', LOGIN_RATE_LIMIT_WINDOW: '60s' });
    // A second replica on the same database, as with `--scale gateway=2`.
    b = await buildApp(
      testConfig({
        DATABASE_URL: a.config.DATABASE_URL,
        S3_BUCKET: a.config.S3_BUCKET,
        LOGIN_RATE_LIMIT_MAX: '4',
        LOGIN_RATE_LIMIT_WINDOW: '60s',
      }),
    );
  });
  afterAll(async () => {
    await b.close();
  });
  const attempt = (app: FastifyInstance, ip: string, username: string) =>
    app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: ip,
      payload: { username, password: 'guess-guess' },
    });

  it('per username: attempts on either replica count once, the fifth is refused on both', async () => {
    const statuses = [];
    for (const [i, app] of [a, b, a, b].entries())
      statuses.push((await attempt(app, `10.1.0.${i}`, 'admin')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect((await attempt(a, '10.1.0.9', 'admin')).statusCode).toBe(429);
    expect((await attempt(b, '10.1.0.10', 'ADMIN')).statusCode).toBe(429);
  });

  it('per IP: across usernames and replicas', async () => {
    for (const [i, app] of [b, a, b, a].entries())
      expect((await attempt(app, '10.2.2.2', `someone${i}`)).statusCode).toBe(401);
    const limited = await attempt(b, '10.2.2.2', 'someone-else');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    // Another address is not affected.
    expect((await attempt(a, '10.2.2.3', 'someone-else')).statusCode).toBe(401);
  });

  it('a window ends on the database clock and keys are stored hashed', async () => {
    const repo = a.repos.rateLimits;
    expect((await repo.hit('probe:x', 300)).current).toBe(1);
    const second = await repo.hit('probe:x', 300);
    expect(second.current).toBe(2);
    expect(second.ttl).toBeGreaterThan(0);
    expect(second.ttl).toBeLessThanOrEqual(300);
    expect((await b.repos.rateLimits.read('probe:x')).current).toBe(2);
    await new Promise((r) => setTimeout(r, 350));
    expect((await b.repos.rateLimits.read('probe:x')).current).toBe(0);
    expect((await repo.hit('probe:x', 300)).current).toBe(1);
    const keys = (await a.db('rate_limits').select('key')).map((r: { key: string }) => r.key);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
  });
});
