/**
 * rattg-system-status in chromium: an admin's Admin tab lists every dependency of `GET /ready`
 * with its state in words (not colour alone) and its reason, Refresh reads it again, nothing sticks
 * out sideways on a phone; someone who is not an admin sees none of it.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { removeIngestorHeartbeat, writeIngestorHeartbeat } from '@rattgllm/core';
import { ADMIN, createUser, login } from '../support/gateway.js';
import {
  ARTIFACTS,
  DESKTOP,
  NO_BROWSER,
  OVERFLOW,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

const DEPENDENCIES = ['postgres', 'qdrant', 'embedder', 'chat', 'ingestor'];
const WORDS = { ok: 'OK', degraded: 'Degraded', down: 'Down' } as const;
const SIZES = { 'phone 320×640': { width: 320, height: 640 }, 'phone 390×844': PHONE, desktop: DESKTOP };

interface Readiness {
  status: string;
  checks: Record<string, { status: keyof typeof WORDS; reason?: string }>;
}

describe.skipIf(NO_BROWSER)('rattg-system-status in chromium', () => {
  let suite: BrowserSuite;
  let token: string;
  let userToken: string;

  beforeAll(async () => {
    suite = await startBrowserSuite();
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    userToken = (await createUser(suite.app, token, { username: 'not-an-admin' })).token;
  });

  /** What the gateway itself says now: the widget must show exactly this. */
  const ready = async (): Promise<Readiness> =>
    (await suite.app.inject({ method: 'GET', url: '/ready' })).json() as Readiness;

  for (const [label, viewport] of Object.entries(SIZES))
    it(`an admin sees every dependency with its state and reason, and Refresh reads it again (${label})`, async () => {
      // No ingestor beats in this suite: the ingestor is down, with a reason, until one does.
      await removeIngestorHeartbeat(suite.app.db, 'status-test');
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        // The answer the widget itself received: a second request could differ (a dependency
        // that times out one time may be refused the next).
        const shown = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/ready'));
        await page.getByRole('tab', { name: 'Admin' }).click();
        const section = page.locator('rattg-system-status');
        await section.getByRole('heading', { name: 'System status' }).waitFor();
        const row = (name: string) => section.locator(`li[data-dependency="${name}"]`);
        await row('ingestor').waitFor();

        const expected = (await (await shown).json()) as Readiness;
        expect(Object.keys(expected.checks).sort()).toEqual([...DEPENDENCIES].sort());
        expect(expected.checks.ingestor).toEqual({ status: 'down', reason: 'no ingestor is running' });
        expect(await section.locator('li[data-dependency]').count()).toBe(DEPENDENCIES.length);
        for (const [name, check] of Object.entries(expected.checks)) {
          expect({ name, state: await row(name).locator('[part="state"]').innerText() }).toEqual({
            name,
            state: expect.stringContaining(WORDS[check.status]) as unknown as string,
          });
          expect(await row(name).getAttribute('data-status')).toBe(check.status);
          if (check.reason) expect(await row(name).locator('.reason').innerText()).toBe(check.reason);
          else expect(await row(name).locator('.reason').count()).toBe(0);
        }
        expect(await row('ingestor').innerText()).toContain('Down');
        // The state's colour is the status colour (not the text colour): colour and word agree.
        const colours = await page.evaluate<string[]>(`(() => {
          const li = document.querySelector('rattg-widget').shadowRoot.querySelector('rattg-admin')
            .shadowRoot.querySelector('rattg-system-status').shadowRoot.querySelector('li[data-dependency="ingestor"]');
          return [getComputedStyle(li.querySelector('[part="state"]')).color, getComputedStyle(li).color];
        })()`);
        expect(colours[0]).not.toBe(colours[1]);
        expect(await page.evaluate<string[]>(OVERFLOW)).toEqual([]);
        await page.screenshot({
          path: join(ARTIFACTS, `system-status-${viewport.width}.png`),
          fullPage: true,
        });

        // An ingestor starts beating, degraded: Refresh shows it, with its reason.
        await writeIngestorHeartbeat(suite.app.db, {
          instanceId: 'status-test',
          hostname: 'ingestor-1',
          pid: 1,
          startedAt: new Date(),
          report: { status: 'degraded', reason: 'waiting for the object store', checks: {} },
        });
        await section.getByRole('button', { name: 'Refresh' }).click();
        await expect.poll(() => row('ingestor').getAttribute('data-status')).toBe('degraded');
        expect(await row('ingestor').locator('[part="state"]').innerText()).toContain('Degraded');
        expect(await row('ingestor').locator('.reason').innerText()).toBe('waiting for the object store');
        expect((await ready()).checks.ingestor?.status).toBe('degraded');
        expect(await page.evaluate<string[]>(OVERFLOW)).toEqual([]);
      } finally {
        await removeIngestorHeartbeat(suite.app.db, 'status-test');
        await context.close();
      }
    });

  it('someone who is not an admin has no Admin tab and no system status', async () => {
    const { context, page } = await signedInPage(suite, PHONE, userToken);
    try {
      // The tabs are there (the page is signed in), only Admin is not.
      await page.getByRole('tab', { name: 'My account' }).waitFor();
      expect(await page.getByRole('tab', { name: 'Admin' }).count()).toBe(0);
      for (const tab of ['Search', 'Upload', 'Documents', 'My account']) {
        await page.getByRole('tab', { name: tab }).click();
        expect({ tab, status: await page.locator('rattg-system-status').count() }).toEqual({
          tab,
          status: 0,
        });
        expect(await page.getByText('System status').count()).toBe(0);
      }
    } finally {
      await context.close();
    }
  });
});
