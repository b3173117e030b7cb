/**
 * The Caddyfile, with the real Caddy (Debian's package; .ci/run installs it): it validates, and on
 * loopback in front of a running gateway it strips /api, streams SSE unbuffered, serves / from the
 * gateway, redirects /openwebui to the chat site, proxies the chat site, limits request bodies and
 * sets security headers. A missing `caddy` binary fails these tests (it is never a skip).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startGateway } from '../support/gateway.js';
import { caddyBinary, freePort, ROOT, startCaddy, type RunningCaddy } from './support.js';

const caddyHome = mkdtempSync(join(tmpdir(), 'rattg-caddy-'));
afterAll(() => rmSync(caddyHome, { recursive: true, force: true }));

/** Environment for one Caddy process: its own state folders, admin endpoint and addresses. */
async function caddyEnv(overrides: Record<string, string>): Promise<Record<string, string>> {
  return {
    HOME: caddyHome,
    XDG_DATA_HOME: join(caddyHome, 'data'),
    XDG_CONFIG_HOME: join(caddyHome, 'config'),
    CADDY_ADMIN: `127.0.0.1:${await freePort()}`,
    ...overrides,
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('Caddyfile', () => {
  it('validates with the real Caddy (default addresses, as in docker-compose.yml)', () => {
    const result = spawnSync(
      caddyBinary(),
      ['validate', '--adapter', 'caddyfile', '--config', join(ROOT, 'Caddyfile')],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: caddyHome,
          XDG_DATA_HOME: join(caddyHome, 'd'),
          XDG_CONFIG_HOME: join(caddyHome, 'c'),
        },
      },
    );
    expect(result.stdout + result.stderr).toContain('Valid configuration');
    expect(result.status).toBe(0);
    // Formatted as `caddy fmt` writes it (validate warns otherwise).
    expect(result.stderr).not.toContain('not formatted');
  });

  it('fails validation loudly when an address is broken (bad input is reported)', () => {
    const result = spawnSync(
      caddyBinary(),
      ['validate', '--adapter', 'caddyfile', '--config', join(ROOT, 'Caddyfile')],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: caddyHome,
          XDG_DATA_HOME: join(caddyHome, 'd'),
          XDG_CONFIG_HOME: join(caddyHome, 'c'),
          MAX_UPLOAD_MB: 'lots',
        },
      },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/max_size|parsing|lots/i);
  });
});

describe('Caddy in front of the gateway', () => {
  let app: FastifyInstance;
  let caddy: RunningCaddy;
  let site: string;
  let chatSite: string;
  let fakeOpenWebui: Server;

  beforeAll(async () => {
    app = await startGateway();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const gatewayPort = (app.server.address() as { port: number }).port;

    // Stands in for Open WebUI on the chat site.
    fakeOpenWebui = createServer((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`open-webui saw ${req.method} ${req.url}`);
    });
    const owuiPort = await listen(fakeOpenWebui);

    site = `http://127.0.0.1:${await freePort()}`;
    chatSite = `http://127.0.0.1:${await freePort()}`;
    caddy = await startCaddy(
      await caddyEnv({
        SITE_ADDRESS: site,
        CHAT_SITE_ADDRESS: chatSite,
        GATEWAY_UPSTREAM: `127.0.0.1:${gatewayPort}`,
        OPENWEBUI_UPSTREAM: `127.0.0.1:${owuiPort}`,
        MAX_UPLOAD_MB: '1',
      }),
      `${site}/api/health`,
    );
  }, 60_000);

  afterAll(async () => {
    await caddy?.stop();
    fakeOpenWebui?.close();
  });

  it('/api/auth/login reaches the gateway with the /api prefix stripped', async () => {
    const res = await fetch(`${site}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; user: { username: string } };
    expect(body.access_token).toMatch(/^ey/);
    expect(body.user.username).toBe('admin');

    const me = await fetch(`${site}/api/auth/me`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(me.status).toBe(200);
    // Unknown API paths are the gateway's 404, not Caddy's.
    const missing = await fetch(`${site}/api/no-such-route`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('/ and /health (no prefix) reach the gateway, as /widget/* will', async () => {
    const direct = await app.inject({ method: 'GET', url: '/' });
    const viaCaddy = await fetch(`${site}/`);
    expect(viaCaddy.status).toBe(direct.statusCode);
    expect(viaCaddy.headers.get('content-type')?.split(';')[0]).toBe(
      String(direct.headers['content-type'] ?? '').split(';')[0] || null,
    );
    const health = await fetch(`${site}/health`);
    expect(health.status).toBe(200);
  });

  it('/openwebui redirects to the chat site, which proxies Open WebUI', async () => {
    for (const path of ['/openwebui', '/openwebui/c/123']) {
      const res = await fetch(`${site}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location'), path).toBe(`${chatSite}/`);
    }
    // The chat site asks the gateway first: without a chat session, Open WebUI is not reached
    // (caddy-sso.test.ts follows the sign-in through to Open WebUI).
    const chat = await fetch(`${chatSite}/c/abc?x=1`);
    expect(chat.status).toBe(401);
    expect(await chat.json()).toMatchObject({ code: 'CHAT_SIGN_IN_REQUIRED' });
  });

  it('sets security headers and hides the server banner', async () => {
    const res = await fetch(`${site}/api/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('server')).toBeNull();
    const chat = await fetch(`${chatSite}/`);
    expect(chat.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses request bodies larger than MAX_UPLOAD_MB before the gateway reads them', async () => {
    // Signed in, so the gateway keeps reading the upload (an anonymous request would get its 401
    // before Caddy noticed the size, and the test would prove nothing).
    const login = await fetch(`${site}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(1024 * 1024 + 4096).fill(97)], { type: 'text/plain' }),
      'big.txt',
    );
    const res = await fetch(`${site}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    // Caddy 2.7+ answers 413; Debian's 2.6 reports the cut-off body as a failed upstream read (502).
    // Either way the upload never reaches the gateway whole.
    expect([413, 502]).toContain(res.status);
    // A body under the limit passes through to the gateway (whatever it answers, it is not refused).
    const small = await fetch(`${site}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'x'.repeat(1000) }),
    });
    expect([413, 502]).not.toContain(small.status);
    expect(small.headers.get('content-type')).toMatch(/application\/json/);
  });
});

describe('Caddy streams SSE through /api unbuffered', () => {
  let upstream: Server;
  let caddy: RunningCaddy;
  let site: string;
  let releaseSecond: () => void = () => {};
  const seen: { url?: string; acceptEncoding?: string } = {};

  beforeAll(async () => {
    // A tiny event-stream upstream routed exactly like the gateway (GATEWAY_UPSTREAM): the first
    // event is sent at once, the second only when the test says so. If Caddy buffered or
    // compressed the stream, the first event could not arrive before the second is released.
    upstream = createServer((req, res) => {
      seen.url = req.url;
      seen.acceptEncoding = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: status\ndata: {"n":1}\n\n');
      releaseSecond = () => res.end('event: status\ndata: {"n":2}\n\n');
      req.on('close', () => res.end());
    });
    const port = await listen(upstream);
    site = `http://127.0.0.1:${await freePort()}`;
    caddy = await startCaddy(
      await caddyEnv({
        SITE_ADDRESS: site,
        CHAT_SITE_ADDRESS: `http://127.0.0.1:${await freePort()}`,
        GATEWAY_UPSTREAM: `127.0.0.1:${port}`,
        OPENWEBUI_UPSTREAM: '127.0.0.1:9',
      }),
      `${site}/openwebui`,
    );
  }, 60_000);

  afterAll(async () => {
    await caddy?.stop();
    upstream?.closeAllConnections();
    upstream?.close();
  });

  it('delivers the first event before the upstream finishes, uncompressed', async () => {
    const res = await fetch(`${site}/api/documents/events`, {
      headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip, zstd' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(seen.url).toBe('/documents/events');

    const reader = res.body!.getReader();
    const first = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error('first SSE event did not arrive within 3s: Caddy buffers the stream')),
          3000,
        ),
      ),
    ]);
    expect(new TextDecoder().decode(first.value)).toContain('data: {"n":1}');

    releaseSecond();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain('data: {"n":2}');
  });
});
