/**
 * rattg-login (inside rattg-widget) in chromium: empty fields are named next to them before
 * anything is sent, the server's 400 arrives as a sentence per field, and the host page gets
 * exactly one rattg-login, after /auth/me confirmed the session.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../support/gateway.js';
import { DESKTOP, NO_BROWSER, PHONE, signedInPage, startBrowserSuite, type BrowserSuite } from './support.js';

describe.skipIf(NO_BROWSER)('rattg-login in chromium', () => {
  let suite: BrowserSuite;
  beforeAll(async () => {
    suite = await startBrowserSuite();
  });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`names an empty field in words, then signs in with one rattg-login event (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, null);
      const logins: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/auth/login')) logins.push(r.method());
      });
      try {
        // What the host sees: the event's target, and whether the session is already confirmed.
        await page.evaluate(`window.loginEvents = [];
          document.addEventListener('rattg-login', (e) => window.loginEvents.push(
            e.target.tagName.toLowerCase() + ':' + (e.target.me ? 'confirmed' : 'unconfirmed')));`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('rattg-login #username-error', { hasText: 'Enter your username.' }).waitFor();
        await page.locator('rattg-login #password-error', { hasText: 'Enter your password.' }).waitFor();
        expect(await page.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
        expect(logins).toEqual([]); // nothing was sent
        expect(await page.locator('rattg-login').textContent()).not.toMatch(/must NOT|body\//);

        // A username longer than the API allows: the server's sentence, next to the field.
        await page.getByLabel('Username').fill('x'.repeat(129));
        await page.getByLabel('Password').fill('whatever');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page
          .locator('rattg-login #username-error', { hasText: 'Username must be at most 128 characters.' })
          .waitFor();
        expect(logins).toEqual(['POST']);

        await page.getByLabel('Username').fill(ADMIN.username);
        await page.getByLabel('Password').fill(ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByText('Signed in as').waitFor();
        expect(await page.locator('rattg-login #username-error').count()).toBe(0);
        await page.waitForTimeout(200); // a late duplicate would arrive by now
        expect(await page.evaluate<string[]>('window.loginEvents')).toEqual(['rattg-widget:confirmed']);
      } finally {
        await context.close();
      }
    });

  it('the demo page reached directly (npm run dev, no Caddy, no ?api-base) signs in', async () => {
    const context = await suite.browser.newContext({ viewport: PHONE });
    try {
      const page = await context.newPage();
      await page.goto(`${suite.base}/`);
      await page.getByLabel('Username').fill(ADMIN.username);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Signed in as').waitFor();
      expect(await page.locator('rattg-widget').getAttribute('api-base')).toBe('');
    } finally {
      await context.close();
    }
  });
});
