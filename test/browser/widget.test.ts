/**
 * rattg-widget (the container) in chromium against the real gateway: the demo page that embeds
 * it, sign-in and the tabs each role gets, tabs by keyboard with a visible focus, what a second
 * user may see, and the way back to the login form (an account disabled meanwhile, an expired
 * session). Each component's own behaviour is in its own file (upload, documents, search, …).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type {} from '@fastify/jwt';
import { ADMIN, createUser, login } from '../support/gateway.js';
import { multipart } from '../support/multipart.js';
import {
  DEEP_FOCUS,
  DESKTOP,
  NO_BROWSER,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

describe.skipIf(NO_BROWSER)('rattg-widget in chromium against the real gateway', () => {
  let suite: BrowserSuite;
  let token: string;

  beforeAll(async () => {
    suite = await startBrowserSuite();
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    // One private and one org-wide document of the admin's.
    for (const [filename, access] of [
      ['private-handbook.txt', 'private'],
      ['org-notes.txt', 'org'],
    ] as const) {
      const form = multipart([{ filename, content: `${filename} text\n`, contentType: 'text/plain' }], {
        access,
      });
      const res = await suite.app.inject({
        method: 'POST',
        url: '/upload',
        headers: { authorization: `Bearer ${token}`, ...form.headers },
        payload: form.payload,
      });
      expect(res.statusCode).toBe(201);
    }
  });

  const signIn = async (page: Page, username: string, password: string) => {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const row = (page: Page, filename: string) =>
    page.locator('rattg-documents [part="row"]').filter({ has: page.getByText(filename, { exact: true }) });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`the demo page embeds the widget; a wrong password is shown, then the admin's tabs (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, null);
      try {
        await page
          .locator('rattg-widget [part="banner"]', { hasText: 'rattgllm – RAG + JWT + LLM' })
          .waitFor();
        expect(await page.locator('#snippet').textContent()).toContain(
          '<script type="module" src="/widget/rattg-widget.js"></script>',
        );
        expect(await page.locator('script[type="module"]').getAttribute('src')).toMatch(
          /^\/widget\/rattg-widget\.[0-9a-f]{12}\.js$/,
        );
        expect(
          await page.getByRole('link', { name: 'open the chat', exact: true }).getAttribute('href'),
        ).toBe('/openwebui');
        // The first field has the focus when the form appears.
        expect(await page.evaluate<string>(DEEP_FOCUS)).toMatch(/^username\|/);
        await signIn(page, ADMIN.username, 'wrong-password');
        await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
        await signIn(page, ADMIN.username, ADMIN.password);
        await page.getByText('Signed in as').waitFor();
        expect(await page.locator('[part="user"]').textContent()).toContain('admin');
        expect(await page.getByRole('tab').allInnerTexts()).toEqual([
          'Search',
          'Upload',
          'Documents',
          'My account',
          'Admin',
        ]);
      } finally {
        await context.close();
      }
    });

  it('a user signs in by keyboard alone, has no admin tab, sees only what they may read, and is sent back when disabled', async () => {
    const bob = await createUser(suite.app, token, { username: 'bob', password: 'bob-password-1' });
    const { context, page } = await signedInPage(suite, DESKTOP, null);
    try {
      // The username field has the focus; type, Tab, type, Enter.
      await page.keyboard.type('bob');
      await page.keyboard.press('Tab');
      await page.keyboard.type('bob-password-1');
      await page.keyboard.press('Enter');
      await page.getByText('Signed in as').waitFor();
      expect(await page.getByRole('tab').allInnerTexts()).toEqual([
        'Search',
        'Upload',
        'Documents',
        'My account',
      ]);

      // Tabs by keyboard: arrows move and open, Home and End jump, with a visible focus ring.
      await page.locator('#tab-search').focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      expect(await page.evaluate<string>(DEEP_FOCUS)).toBe('tab-documents|tab|Documents');
      const outline = await page
        .locator('#tab-documents')
        .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).outlineStyle);
      expect(outline).not.toBe('none');
      await page.keyboard.press('Home');
      expect(await page.evaluate<string>(DEEP_FOCUS)).toBe('tab-search|tab|Search');
      await page.keyboard.press('End');
      expect(await page.evaluate<string>(DEEP_FOCUS)).toBe('tab-account|tab|My account');
      await page.keyboard.press('ArrowLeft');
      await page.locator('rattg-documents').waitFor();

      await row(page, 'org-notes.txt').waitFor();
      expect(await row(page, 'private-handbook.txt').count()).toBe(0);
      // Not the owner: nothing that changes it.
      expect(
        await row(page, 'org-notes.txt').getByRole('button', { name: 'Delete org-notes.txt' }).count(),
      ).toBe(0);

      // The admin disables bob: his next request is refused and he is back at the login form.
      const res = await suite.app.inject({
        method: 'PATCH',
        url: `/users/${bob.id}`,
        headers: { authorization: `Bearer ${token}` },
        payload: { disabled: true },
      });
      expect(res.statusCode).toBe(200);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByRole('status').filter({ hasText: 'This account is disabled' }).waitFor();
      await page.getByLabel('Username').waitFor();
    } finally {
      await context.close();
    }
  });

  it('an expired session returns to the login form with a message', async () => {
    const admin = await suite.app.db('users').where({ username: 'admin' }).first('id', 'roles');
    // Long enough to be seen signed in first, even on a busy machine.
    const expiring = suite.app.jwt.sign(
      { sub: admin.id, username: 'admin', roles: admin.roles },
      { expiresIn: 5 },
    );
    const context = await suite.browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(8000);
    await context.addInitScript(`sessionStorage.setItem('rattg-widget-token:', ${JSON.stringify(expiring)})`);
    const page = await context.newPage();
    try {
      await page.goto(`${suite.base}/?api-base=`);
      await page.getByText('Signed in as').waitFor();
      await page
        .getByRole('status')
        .filter({ hasText: 'Your session has expired; sign in again' })
        .waitFor({ timeout: 12_000 });
      await page.getByLabel('Username').waitFor();
      expect(await page.evaluate<string | null>("sessionStorage.getItem('rattg-widget-token:')")).toBeNull();
      // A token the server refuses (the same one, stored by an earlier visit) gets its message too.
      await page.reload();
      await page.getByRole('status').filter({ hasText: 'Your session has expired; sign in again' }).waitFor();
      await page.getByLabel('Username').waitFor();
    } finally {
      await context.close();
    }
  });
});
