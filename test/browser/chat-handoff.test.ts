/**
 * "Open the chat" in a real browser: signed in to the widget on the site, the chat site (the real
 * Caddy with the project's Caddyfile, in front of the real gateway and a stand-in Open WebUI that
 * records headers) opens already signed in — no second sign-in. Debian's chromium, as in
 * widget.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { ADMIN, createUser, login, startGateway } from '../support/gateway.js';
import { freePort, startCaddy, type RunningCaddy } from '../deploy/support.js';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('Open the chat from the widget (chromium)', () => {
  const home = mkdtempSync(join(tmpdir(), 'rattg-handoff-'));
  let app: FastifyInstance;
  let caddy: RunningCaddy;
  let owui: Server;
  let browser: Browser;
  let site: string;
  let chat: string;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    const widgetDir = join(home, 'widget');
    await promisify(execFile)(process.execPath, ['widget/build.mjs', '--outdir', widgetDir]);
    const gatewayPort = await freePort();
    site = `http://127.0.0.1:${gatewayPort}`;
    // localhost: the browser keeps Secure cookies on plain http only there.
    chat = `http://localhost:${await freePort()}`;
    app = await startGateway({ WIDGET_DIR: widgetDir, PUBLIC_API_URL: site, CHAT_SITE_URL: chat });
    await app.listen({ host: '127.0.0.1', port: gatewayPort });
    const admin = await login(app, ADMIN.username, ADMIN.password);
    await createUser(app, admin, { username: 'wanda', email: 'wanda@example.com', groups: ['eng'] });

    owui = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('content-type', 'text/html');
      res.end(`<title>Open WebUI stand-in</title><p>open-webui saw ${req.url}</p>`);
    });
    await new Promise<void>((r) => owui.listen(0, '127.0.0.1', r));
    caddy = await startCaddy(
      {
        HOME: home,
        XDG_DATA_HOME: join(home, 'data'),
        XDG_CONFIG_HOME: join(home, 'config'),
        CADDY_ADMIN: `127.0.0.1:${await freePort()}`,
        SITE_ADDRESS: `http://127.0.0.1:${await freePort()}`,
        CHAT_SITE_ADDRESS: chat,
        GATEWAY_UPSTREAM: `127.0.0.1:${gatewayPort}`,
        OPENWEBUI_UPSTREAM: `127.0.0.1:${(owui.address() as { port: number }).port}`,
      },
      `${chat}/chat-sso/sign-in`,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await caddy?.stop();
    owui?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('opens the chat signed in as the widget user, without the chat sign-in page', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(8000);
    const page = await context.newPage();
    await page.goto(`${site}/?api-base=`);
    await page.getByLabel('Username').fill('wanda');
    await page.getByLabel('Password').fill('password-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();

    const popup = context.waitForEvent('page');
    await page.getByRole('link', { name: 'Open the chat', exact: true }).click();
    const chatPage = await popup;
    await chatPage.waitForURL(`${chat}/`);
    expect(await chatPage.textContent('p')).toBe('open-webui saw /');
    expect(seen.at(-1)).toMatchObject({
      'x-rattgllm-email': 'wanda@example.com',
      'x-rattgllm-name': 'wanda',
      'x-rattgllm-groups': 'eng',
      'x-rattgllm-role': 'user',
    });

    // A fresh browser without the widget's sign-in gets the chat's sign-in page instead.
    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(`${chat}/`);
    expect(new URL(stranger.url()).pathname).toBe('/chat-sso/sign-in');
    await stranger.getByRole('button', { name: 'Sign in' }).waitFor();
    await context.close();
  });
});
