/**
 * One sign-in for the chat site, through the real Caddy with the project's Caddyfile: Caddy asks
 * the gateway (forward_auth) before every request, and a stand-in for Open WebUI records what it
 * receives. No session → the gateway's sign-in page; signed in → the trusted headers of that
 * person; forged headers from outside never arrive; sign-out, a disabled and a deleted user all
 * lose the chat at the next request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, bearer, createUser, login, startGateway } from '../support/gateway.js';
import { freePort, startCaddy, type RunningCaddy } from './support.js';

const caddyHome = mkdtempSync(join(tmpdir(), 'rattg-caddy-sso-'));
afterAll(() => rmSync(caddyHome, { recursive: true, force: true }));

const TRUSTED = ['x-rattgllm-email', 'x-rattgllm-name', 'x-rattgllm-groups', 'x-rattgllm-role'];
const PASSWORD = 'password-123';

describe('chat site sign-in (trusted-header SSO) through Caddy', () => {
  let app: FastifyInstance;
  let caddy: RunningCaddy;
  let chat: string;
  let owui: Server;
  let adminToken: string;
  let seen: { url: string; headers: IncomingHttpHeaders }[] = [];

  /** A browser's page load (fetch never follows redirects here: each step is checked). */
  const open = (path: string, cookie?: string, extra: Record<string, string> = {}) =>
    fetch(`${chat}${path}`, {
      redirect: 'manual',
      headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate', ...(cookie ? { cookie } : {}), ...extra },
    });

  /** The sign-in form as a browser submits it; returns the session cookie (`name=value`) if any. */
  async function signIn(username: string, next = '/', origin = chat) {
    const page = await open(`/chat-sso/sign-in?next=${encodeURIComponent(next)}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const csrfCookie = page.headers.getSetCookie().find((c) => c.startsWith('__Host-rattgllm-csrf='))!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await fetch(`${chat}/chat-sso/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin,
        cookie: csrfCookie.split(';')[0]!,
      },
      body: new URLSearchParams({ username, password: PASSWORD, csrf, next }).toString(),
    });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-rattgllm-chat='));
    return { res, setCookie, cookie: setCookie?.split(';')[0] };
  }

  beforeAll(async () => {
    app = await startGateway();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const gatewayPort = (app.server.address() as { port: number }).port;
    adminToken = await login(app, ADMIN.username, ADMIN.password);
    for (const [username, groups] of [
      ['alice', ['eng', 'finance']],
      ['bob', []],
      ['carol', ['eng']],
    ] as const)
      await createUser(app, adminToken, {
        username,
        email: `${username[0]!.toUpperCase()}${username.slice(1)}@Example.com`,
        groups: [...groups],
        password: PASSWORD,
      });

    owui = createServer((req, res) => {
      seen.push({ url: req.url!, headers: req.headers });
      res.setHeader('content-type', 'text/plain');
      res.end(`open-webui saw ${req.url}`);
    });
    await new Promise<void>((r) => owui.listen(0, '127.0.0.1', r));
    const owuiPort = (owui.address() as { port: number }).port;

    chat = `http://127.0.0.1:${await freePort()}`;
    caddy = await startCaddy(
      {
        HOME: caddyHome,
        XDG_DATA_HOME: join(caddyHome, 'data'),
        XDG_CONFIG_HOME: join(caddyHome, 'config'),
        CADDY_ADMIN: `127.0.0.1:${await freePort()}`,
        SITE_ADDRESS: `http://127.0.0.1:${await freePort()}`,
        CHAT_SITE_ADDRESS: chat,
        GATEWAY_UPSTREAM: `127.0.0.1:${gatewayPort}`,
        OPENWEBUI_UPSTREAM: `127.0.0.1:${owuiPort}`,
      },
      `${chat}/chat-sso/sign-in`,
    );
  }, 60_000);

  afterAll(async () => {
    await caddy?.stop();
    owui?.close();
  });

  beforeEach(() => {
    seen = [];
  });

  it('no session: a page load gets the sign-in page on the chat host, an API call a 401; Open WebUI sees nothing', async () => {
    const res = await open('/c/42?x=1');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/chat-sso/sign-in?next=${encodeURIComponent('/c/42?x=1')}`);
    const page = await open(res.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('action="/chat-sso/sign-in"');
    expect(html).toContain('value="/c/42?x=1"');

    const api = await fetch(`${chat}/api/config`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ code: 'CHAT_SIGN_IN_REQUIRED' });
    expect(seen).toEqual([]);
  });

  it('sign-in sets a host-only, HttpOnly, Secure, SameSite=Lax cookie; Open WebUI then gets that person', async () => {
    const { res, setCookie, cookie } = await signIn('alice', '/c/42');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/c/42');
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).toMatch(/; SameSite=Lax/i);
    expect(setCookie).toMatch(/; Path=\//i);
    expect(setCookie).not.toMatch(/Domain=/i);

    const chatPage = await open('/c/42', cookie);
    expect(chatPage.status).toBe(200);
    expect(await chatPage.text()).toBe('open-webui saw /c/42');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers).toMatchObject({
      'x-rattgllm-email': 'alice@example.com',
      'x-rattgllm-name': 'alice',
      'x-rattgllm-groups': 'eng,finance',
      'x-rattgllm-role': 'user',
    });
  });

  it('client-sent trusted headers are stripped, with or without a session', async () => {
    const forged = {
      'X-Rattgllm-Email': 'admin@example.com',
      'x-rattgllm-role': 'admin',
      'X-RATTGLLM-GROUPS': 'everyone',
      'X-Rattgllm-Name': 'Mallory',
      // Not one of the four forward_auth sets: only the strip keeps it from Open WebUI.
      'X-Rattgllm-Admin': 'true',
    };
    const anonymous = await open('/', undefined, forged);
    expect(anonymous.status).toBe(302);
    const api = await fetch(`${chat}/api/v1/auths/signin`, { method: 'POST', headers: forged });
    expect(api.status).toBe(401);
    expect(seen).toEqual([]);

    const { cookie } = await signIn('bob');
    const res = await open('/', cookie, forged);
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    // Bob has no groups: the header is empty (Caddy 2.6) or absent (2.10), never the forged one.
    const got = Object.fromEntries(TRUSTED.map((h) => [h, seen[0]!.headers[h] ?? '']));
    expect(seen[0]!.headers['x-rattgllm-admin']).toBeUndefined();
    expect(got).toEqual({
      'x-rattgllm-email': 'bob@example.com',
      'x-rattgllm-name': 'bob',
      'x-rattgllm-groups': '',
      'x-rattgllm-role': 'user',
    });
  });

  it("the widget's hand-off ticket signs in through Caddy without the form", async () => {
    const carol = await login(app, 'carol', PASSWORD);
    const { ticket } = (
      await app.inject({ method: 'POST', url: '/chat-sso/ticket', headers: bearer(carol) })
    ).json() as { ticket: string };
    const res = await fetch(`${chat}/chat-sso/handoff`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: chat },
      body: new URLSearchParams({ ticket }).toString(),
    });
    expect(res.status).toBe(303);
    const cookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('__Host-rattgllm-chat='))!
      .split(';')[0]!;
    expect((await open('/', cookie)).status).toBe(200);
    expect(seen.at(-1)!.headers['x-rattgllm-email']).toBe('carol@example.com');
  });

  it('a form posted from another site signs nobody in', async () => {
    const { res, setCookie } = await signIn('alice', '/', 'https://evil.example');
    expect(res.status).toBe(403);
    expect(setCookie).toBeUndefined();
  });

  it("sign-out (Open WebUI's redirect) ends the session on the server; a link from elsewhere only asks", async () => {
    const { cookie } = await signIn('carol');
    expect((await open('/', cookie)).status).toBe(200);

    // A navigation from another site (no same-origin Fetch-Metadata) gets a confirmation page.
    const elsewhere = await open('/chat-sso/sign-out', cookie, { 'sec-fetch-site': 'cross-site' });
    expect(elsewhere.status).toBe(200);
    expect(await elsewhere.text()).toContain('action="/chat-sso/sign-out"');
    expect((await open('/', cookie)).status).toBe(200);

    // Open WebUI's sign-out navigates here from its own page.
    const out = await open('/chat-sso/sign-out', cookie, { 'sec-fetch-site': 'same-origin' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/chat-sso/sign-in?signed_out=1');
    expect(out.headers.getSetCookie().join('\n')).toMatch(
      /__Host-rattgllm-chat=;.*Expires=Thu, 01 Jan 1970/i,
    );
    seen = [];
    // Even a browser that kept the cookie is out: the session is gone on the server.
    const after = await open('/', cookie);
    expect(after.status).toBe(302);
    expect(seen).toEqual([]);
  });

  it('a disabled or deleted user loses the chat at the next request', async () => {
    const dave = await createUser(app, adminToken, {
      username: 'dave',
      email: 'dave@example.com',
      password: PASSWORD,
    });
    const erin = await createUser(app, adminToken, {
      username: 'erin',
      email: 'erin@example.com',
      password: PASSWORD,
    });
    const daveSession = (await signIn('dave')).cookie;
    const erinSession = (await signIn('erin')).cookie;
    expect((await open('/', daveSession)).status).toBe(200);
    expect((await open('/', erinSession)).status).toBe(200);

    const disable = await app.inject({
      method: 'PATCH',
      url: `/users/${dave.id}`,
      headers: bearer(adminToken),
      payload: { disabled: true },
    });
    expect(disable.statusCode, disable.body).toBe(200);
    const remove = await app.inject({
      method: 'DELETE',
      url: `/users/${erin.id}`,
      headers: bearer(adminToken),
    });
    expect(remove.statusCode, remove.body).toBeLessThan(300);

    seen = [];
    expect((await open('/', daveSession)).status).toBe(302);
    expect((await open('/', erinSession)).status).toBe(302);
    expect(seen).toEqual([]);
  });
});
