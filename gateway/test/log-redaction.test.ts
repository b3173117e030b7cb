/**
 * No secret reaches a log line. The gateway runs at `trace` (every line it can write, the
 * `incoming request` one included) and each secret is sent through each channel it can arrive
 * by: the Authorization header (session JWT, API key), cookies, Open WebUI's forwarded JWT, a URL's
 * `?token=`, request bodies (sign-in, password change, a new user), failed attempts of each, and
 * a log call that names them directly. Every line is then searched for every secret.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, bearer, login, startGateway } from '../../test/support/gateway.js';

const SECRETS = {
  wrongPassword: 'wrong-password-never-logged-1',
  newUserPassword: 'new-user-password-never-logged-2',
  newPassword: 'changed-password-never-logged-3',
  cookie: 'cookie-value-never-logged-4',
  openWebUiJwt: 'eyJhbGciOiJIUzI1NiJ9.eyJmb3J3YXJkZWQiOjF9.never-logged-5',
  badUrlToken: 'url-token-never-logged-6',
  direct: 'direct-field-never-logged-7',
};
const NO_DOCUMENT = '00000000-0000-4000-8000-000000000000';

describe('log redaction', () => {
  const lines: string[] = [];
  let app: FastifyInstance;
  let session: string;
  let apiKey: string;
  let sseToken: string;

  beforeAll(async () => {
    app = await startGateway({ LOG_LEVEL: 'trace' }, { logStream: { write: (l: string) => lines.push(l) } });
    session = await login(app, ADMIN.username, ADMIN.password);
    const key = await app.inject({
      method: 'POST',
      url: '/api-keys',
      headers: bearer(session),
      payload: { name: 'log test' },
    });
    apiKey = key.json().key as string;
    const sse = await app.inject({
      method: 'POST',
      url: '/documents/events/token',
      headers: bearer(session),
    });
    sseToken = sse.json().token as string;

    const calls: InjectOptions[] = [
      // Sign-in: right and wrong password.
      { method: 'POST', url: '/auth/login', payload: { username: 'admin', password: SECRETS.wrongPassword } },
      // A new user, and a password change (wrong current password, then a valid change).
      {
        method: 'POST',
        url: '/users',
        headers: bearer(session),
        payload: { username: 'logged-user', password: SECRETS.newUserPassword },
      },
      {
        method: 'POST',
        url: '/auth/password',
        headers: bearer(session),
        payload: { currentPassword: SECRETS.wrongPassword, newPassword: SECRETS.newPassword },
      },
      // A password that breaks the schema (too short), so validation fails on it.
      { method: 'POST', url: '/users', headers: bearer(session), payload: { username: 'x', password: 'a' } },
      // Headers: API key, cookie, Open WebUI's forwarded JWT; a broken bearer value.
      { method: 'GET', url: '/auth/me', headers: { ...bearer(apiKey), cookie: `sid=${SECRETS.cookie}` } },
      {
        method: 'GET',
        url: '/v1/models',
        headers: { ...bearer(apiKey), 'x-openwebui-user-jwt': SECRETS.openWebUiJwt },
      },
      { method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${SECRETS.badUrlToken}x` } },
      // URL tokens: a real one used where it does not belong, a forged one, one among other parameters.
      { method: 'GET', url: `/documents/${NO_DOCUMENT}/content?token=${encodeURIComponent(sseToken)}` },
      { method: 'GET', url: `/documents/${NO_DOCUMENT}/content?token=${SECRETS.badUrlToken}` },
      { method: 'GET', url: `/documents/events?a=1&TOKEN=${SECRETS.badUrlToken}&b=2` },
      // Spelt the way only the query parser understands.
      { method: 'GET', url: `/documents/events?%74oken=${SECRETS.badUrlToken}` },
    ];
    for (const call of calls) await app.inject(call);
    app.log.info(
      {
        password: SECRETS.direct,
        secret: SECRETS.direct,
        token: SECRETS.direct,
        headers: {
          authorization: SECRETS.direct,
          cookie: SECRETS.direct,
          'x-openwebui-user-jwt': SECRETS.direct,
        },
      },
      'a line that names secrets',
    );
    // Request lines are written when the response has finished.
    await new Promise((r) => setImmediate(r));
  });

  it('writes the lines the check reads (requests in and out, errors)', () => {
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; req?: { url: string } });
    expect(parsed.filter((l) => l.msg === 'incoming request').length).toBeGreaterThanOrEqual(10);
    const urls = parsed.filter((l) => l.msg === 'request completed').map((l) => l.req!.url);
    expect(urls).toContain(`/documents/${NO_DOCUMENT}/content?token=[redacted]`);
    expect(urls).toContain('/documents/events?a=1&TOKEN=[redacted]&b=2');
    expect(urls).toContain('/documents/events?%74oken=[redacted]');
    const direct = parsed.find((l) => l.msg === 'a line that names secrets');
    expect(direct).toMatchObject({
      password: '[redacted]',
      secret: '[redacted]',
      token: '[redacted]',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-openwebui-user-jwt': '[redacted]' },
    });
  });

  it('never writes a password, a token, a key or a cookie', () => {
    const all = lines.join('');
    const secrets = {
      ...SECRETS,
      adminPassword: ADMIN.password,
      session,
      apiKey,
      sseToken,
      // A JWT's signature alone is enough to recognise (and replay) it.
      sessionSignature: session.split('.')[2]!,
    };
    for (const [name, value] of Object.entries(secrets)) expect(all.includes(value), name).toBe(false);
  });
});
