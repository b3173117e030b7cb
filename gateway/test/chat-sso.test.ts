/**
 * The chat site's sign-in at the gateway (test/deploy/caddy-sso.test.ts runs it behind Caddy):
 * CSRF and open-redirect checks, who may get a session, and the widget's hand-off ticket.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { safeNext } from '../src/routes/chat-sso/index.js';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';

const CHAT = { host: 'chat.example.com', 'x-forwarded-proto': 'https' };
const PASSWORD = 'password-123';

describe('chat sign-in at the gateway', () => {
  let app: FastifyInstance;
  let ana: { id: string; token: string };
  let noMail: { id: string; token: string };

  /** The sign-in page's CSRF cookie and field. */
  async function csrf(): Promise<{ cookie: string; field: string }> {
    const page = await app.inject({ method: 'GET', url: '/chat-sso/sign-in', headers: CHAT });
    const field = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookie = page.cookies.find((c) => c.name === '__Host-rattgllm-csrf')!;
    return { cookie: `${cookie.name}=${cookie.value}`, field };
  }
  async function signIn(form: Record<string, string>, headers: Record<string, string> = {}) {
    const token = await csrf();
    return app.inject({
      method: 'POST',
      url: '/chat-sso/sign-in',
      headers: {
        ...CHAT,
        origin: 'https://chat.example.com',
        cookie: token.cookie,
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      payload: new URLSearchParams({ password: PASSWORD, csrf: token.field, ...form }).toString(),
    });
  }
  const sessionOf = (res: Awaited<ReturnType<typeof signIn>>) =>
    res.cookies.find((c) => c.name === '__Host-rattgllm-chat' && c.value);
  const verify = (cookie: string) =>
    app.inject({ method: 'GET', url: '/chat-sso/verify', headers: { ...CHAT, cookie } });

  beforeAll(async () => {
    app = await startGateway({
      PUBLIC_API_URL: 'https://rag.example.com/api',
      CHAT_SITE_URL: 'https://chat.example.com/',
    });
    const adminToken = await login(app, ADMIN.username, ADMIN.password);
    ana = await createUser(app, adminToken, { username: 'ana', email: 'ana@example.com', groups: ['eng'] });
    noMail = await createUser(app, adminToken, { username: 'nomail' });
    await createUser(app, adminToken, { username: 'robot', roles: ['service'], password: PASSWORD });
  });

  it('never redirects off the site after sign-in', async () => {
    for (const next of [
      '//evil.example/x',
      '/\\evil.example',
      'https://evil.example',
      '',
      '/chat-sso/sign-out',
    ])
      expect(safeNext(next), next).toBe('/');
    expect(safeNext('/c/1?x=2')).toBe('/c/1?x=2');
    const res = await signIn({ username: 'ana', next: '//evil.example/' });
    expect(res.statusCode, res.body).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('refuses a form without the matching CSRF token or from another origin', async () => {
    const wrongToken = await signIn({ username: 'ana', csrf: 'not-the-cookie' });
    expect(wrongToken.statusCode).toBe(403);
    expect(sessionOf(wrongToken)).toBeUndefined();
    const crossSite = await signIn({ username: 'ana' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.statusCode).toBe(403);
    expect(sessionOf(crossSite)).toBeUndefined();
  });

  it('wrong password, service accounts and users without an e-mail get no session, with a reason', async () => {
    const wrong = await signIn({ username: 'ana', password: 'nope-nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Wrong user name or password');
    const robot = await signIn({ username: 'robot' });
    expect(robot.statusCode).toBe(401);
    const mailless = await signIn({ username: 'nomail' });
    expect(mailless.statusCode).toBe(403);
    expect(mailless.body).toContain('no e-mail address');
    for (const res of [wrong, robot, mailless]) expect(sessionOf(res)).toBeUndefined();
  });

  it('verify answers the trusted headers for a session, and 401 JSON to a non-page request without one', async () => {
    const session = sessionOf(await signIn({ username: 'ana' }))!;
    const ok = await verify(`${session.name}=${session.value}`);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers).toMatchObject({
      'x-rattgllm-email': 'ana@example.com',
      'x-rattgllm-name': 'ana',
      'x-rattgllm-groups': 'eng',
      'x-rattgllm-role': 'user',
      'cache-control': 'no-store',
    });
    const none = await verify('');
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'CHAT_SIGN_IN_REQUIRED' });
    const forged = await verify('__Host-rattgllm-chat=made-up');
    expect(forged.statusCode).toBe(401);
  });

  describe("the widget's hand-off (no second sign-in)", () => {
    const ticketFor = async (token: string) =>
      app.inject({ method: 'POST', url: '/chat-sso/ticket', headers: bearer(token) });
    const handoff = (ticket: string, origin?: string) =>
      app.inject({
        method: 'POST',
        url: '/chat-sso/handoff',
        headers: {
          ...CHAT,
          'content-type': 'application/x-www-form-urlencoded',
          ...(origin ? { origin } : {}),
        },
        payload: new URLSearchParams({ ticket }).toString(),
      });

    it('a ticket posted from the site becomes a chat session for that person', async () => {
      const res = await ticketFor(ana.token);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().expires_in).toBe(60);
      const done = await handoff(res.json().ticket, 'https://rag.example.com');
      expect(done.statusCode, done.body).toBe(303);
      expect(done.headers.location).toBe('/');
      const session = sessionOf(done)!;
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
      expect((await verify(`${session.name}=${session.value}`)).headers['x-rattgllm-email']).toBe(
        'ana@example.com',
      );
      // The same ticket again opens nothing.
      const replay = await handoff(res.json().ticket, 'https://rag.example.com');
      expect(replay.statusCode).toBe(303);
      expect(replay.headers.location).toBe('/chat-sso/sign-in');
      expect(sessionOf(replay)).toBeUndefined();
    });

    it('another site cannot post one (login CSRF), and a ticket is no bearer token', async () => {
      const { ticket } = (await ticketFor(ana.token)).json() as { ticket: string };
      for (const origin of ['https://evil.example', undefined]) {
        const res = await handoff(ticket, origin);
        expect(res.statusCode, String(origin)).toBe(403);
        expect(sessionOf(res)).toBeUndefined();
      }
      const asBearer = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(ticket) });
      expect(asBearer.statusCode).toBe(401);
      const garbage = await handoff('not-a-ticket', 'https://rag.example.com');
      expect(garbage.statusCode).toBe(303);
      expect(garbage.headers.location).toBe('/chat-sso/sign-in');
      expect(sessionOf(garbage)).toBeUndefined();
    });

    it('the demo page links the chat site and lets the widget post its hand-off there', async () => {
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.body).toContain('chat-url="https://chat.example.com"');
      expect(page.headers['content-security-policy']).toContain(
        "form-action 'self' https://chat.example.com",
      );
    });

    it('no ticket for a user without an e-mail', async () => {
      const res = await ticketFor(noMail.token);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'NO_EMAIL' });
    });
  });
});
