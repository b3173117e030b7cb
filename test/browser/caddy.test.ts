/**
 * The deployed site in chromium, through the real Caddy and the repository's Caddyfile: the
 * gateway's 413 sentence reaches the person who uploads a file over the limit (Caddy's own limit
 * is a little higher, so it never answers first with an empty 502), and the API page at /api/docs
 * tries requests successfully ("Try it out" → 200), also with a token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, login } from '../support/gateway.js';
import { freePort, startCaddy, type RunningCaddy } from '../deploy/support.js';
import { DESKTOP, NO_BROWSER, PHONE, startBrowserSuite, type BrowserSuite } from './support.js';

describe.skipIf(NO_BROWSER)('the site through Caddy, in chromium', () => {
  let suite: BrowserSuite;
  let caddy: RunningCaddy;
  let site: string;
  let token: string;
  const home = mkdtempSync(join(tmpdir(), 'rattg-caddy-browser-'));

  beforeAll(async () => {
    suite = await startBrowserSuite({ MAX_UPLOAD_MB: '1' });
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    site = `http://127.0.0.1:${await freePort()}`;
    caddy = await startCaddy(
      {
        HOME: home,
        XDG_DATA_HOME: join(home, 'data'),
        XDG_CONFIG_HOME: join(home, 'config'),
        CADDY_ADMIN: `127.0.0.1:${await freePort()}`,
        SITE_ADDRESS: site,
        CHAT_SITE_ADDRESS: `http://127.0.0.1:${await freePort()}`,
        GATEWAY_UPSTREAM: new URL(suite.base).host,
        OPENWEBUI_UPSTREAM: `127.0.0.1:${await freePort()}`,
        MAX_UPLOAD_MB: '1',
      },
      `${site}/api/health`,
    );
  }, 90_000);

  afterAll(async () => {
    await caddy?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const open = async (viewport: { width: number; height: number }, path: string) => {
    const context = await suite.browser.newContext({ viewport });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(`${site}${path}`);
    return { context, page };
  };

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`shows the gateway's 413 sentence for a file over the limit (${label})`, async () => {
      const { context, page } = await open(viewport, '/');
      try {
        // A page that still believes in a larger limit (opened before the server's limit was
        // lowered) sends the file: what the person sees must be the gateway's sentence.
        await page.route('**/api/config', (route) =>
          route.fulfill({
            contentType: 'application/json',
            body: JSON.stringify({
              upload: { maxBytes: 100 * 1024 * 1024, maxMb: 100, extensions: ['txt'] },
            }),
          }),
        );
        await page.getByLabel('Username').fill(ADMIN.username);
        await page.getByLabel('Password').fill(ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('tab', { name: 'Upload' }).click();
        const answers: number[] = [];
        page.on('response', (r) => {
          if (r.url().endsWith('/api/upload')) answers.push(r.status());
        });
        await page
          .locator('rattg-upload input[type="file"]')
          .setInputFiles([
            { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(1024 * 1024 + 4096, 'a') },
          ]);
        await page
          .locator('rattg-upload li')
          .filter({ hasText: 'The file is larger than the limit of 1 MB' })
          .waitFor();
        expect(answers).toEqual([413]);
      } finally {
        await context.close();
      }
    });

  /** Expand an operation of the Swagger UI page, "Try it out", "Execute"; the status shown. */
  const tryOut = async (page: Page, opblock: string) => {
    const block = page.locator(opblock);
    await block.locator('.opblock-summary').first().click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    await block.getByRole('button', { name: 'Execute' }).click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    return {
      status: (await status.textContent())?.trim(),
      body: await block.locator('.live-responses-table .microlight').first().textContent(),
    };
  };

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`/api/docs tries GET /config, and GET /auth/me with a token (${label})`, async () => {
      const { context, page } = await open(viewport, '/api/docs');
      try {
        await page.locator('.servers select').waitFor();
        // Reached through Caddy, the /api server is the one in use.
        expect(await page.locator('.servers select').inputValue()).toBe('/api');
        const config = await tryOut(page, '#operations-health-get_config');
        expect(config.status).toBe('200');
        expect(config.body).toContain('"maxMb": 1');

        await page.getByRole('button', { name: 'Authorize' }).first().click();
        await page.locator('.modal-ux input[type="text"]').fill(token);
        await page.locator('.modal-ux button.authorize').click();
        await page.locator('.modal-ux button.btn-done').click();
        const me = await tryOut(page, '#operations-auth-get_auth_me');
        expect(me.status).toBe('200');
        expect(me.body).toContain('"username": "admin"');
        await page.screenshot({ path: `test/browser/artifacts/api-docs-${label}.png`, fullPage: false });
      } finally {
        await context.close();
      }
    });
});
