/**
 * rattg-account ("My account") in chromium, as a user who is not an admin: change the password,
 * make an API key limited to reading with an expiry (the API enforces both), revoke it after a
 * confirmation that names it. An admin sees every key with its owner in the Admin tab.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createUser, login } from '../support/gateway.js';
import { multipart } from '../support/multipart.js';
import {
  ARTIFACTS,
  DESKTOP,
  NO_BROWSER,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

describe.skipIf(NO_BROWSER)('rattg-account in chromium', () => {
  let suite: BrowserSuite;
  let adminToken: string;

  beforeAll(async () => {
    suite = await startBrowserSuite();
    adminToken = await login(suite.app, ADMIN.username, ADMIN.password);
  });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`a user changes their password and makes, uses and revokes a read-only key (${label})`, async () => {
      const username = `kim-${label}`;
      const user = await createUser(suite.app, adminToken, { username, password: 'first-password-1' });
      const { context, page } = await signedInPage(suite, viewport, user.token);
      try {
        await page.getByRole('tab', { name: 'My account' }).click();
        const pw = page.getByRole('form', { name: 'Change password' });
        await pw.getByLabel('Current password').fill('not-my-password');
        await pw.getByLabel('New password (8 characters or more)').fill('second-password-2');
        await pw.getByLabel('New password again').fill('second-password-2');
        await pw.getByRole('button', { name: 'Change password' }).click();
        await pw.getByText('That is not your current password.').waitFor();
        await pw.getByLabel('Current password').fill('first-password-1');
        await pw.getByLabel('New password again').fill('second-password-X');
        await pw.getByRole('button', { name: 'Change password' }).click();
        await pw.getByText('The two new passwords differ.').waitFor();
        await pw.getByLabel('New password again').fill('second-password-2');
        await pw.getByRole('button', { name: 'Change password' }).click();
        await page.getByRole('status').filter({ hasText: 'Your password is changed' }).waitFor();
        await login(suite.app, username, 'second-password-2');

        const form = page.getByRole('form', { name: 'New API key' });
        // Not an admin: no admin scope to pick.
        expect(await form.getByLabel('Administer users').count()).toBe(0);
        await form.getByLabel('Key name').fill('reporting script');
        await form.getByLabel('Read and search').check();
        await form.getByLabel('Expires after').selectOption({ label: '7 days' });
        await form.getByRole('button', { name: 'Create API key' }).click();
        const key = (await page.locator('rattg-account [part="secret"] code').textContent())!;
        expect(key).toMatch(/^rk_/);
        // Shown once: not kept in the page's storage, gone from the page once dismissed.
        expect(
          await page.evaluate<string>('JSON.stringify({...sessionStorage, ...localStorage})'),
        ).not.toContain(key);
        const row = page.locator('rattg-account tr[data-key="reporting script"]');
        expect(await row.locator('td[data-label="May do"]').innerText()).toBe('Read and search');
        const stored = await suite.app
          .db('api_keys')
          .where({ name: 'reporting script', user_id: user.id })
          .first();
        expect(stored.scopes).toEqual(['read']);
        const days = (stored.expires_at.getTime() - Date.now()) / 86400_000;
        expect(days).toBeGreaterThan(6.9);
        expect(days).toBeLessThan(7.1);

        // The API holds the key to its scope: it reads, it cannot upload.
        const list = await suite.app.inject({
          url: '/documents',
          headers: { authorization: `Bearer ${key}` },
        });
        expect(list.statusCode).toBe(200);
        const form2 = multipart([{ filename: 'x.txt', content: 'x\n', contentType: 'text/plain' }]);
        const up = await suite.app.inject({
          method: 'POST',
          url: '/upload',
          headers: { authorization: `Bearer ${key}`, ...form2.headers },
          payload: form2.payload,
        });
        expect(up.statusCode).toBe(403);
        await page.screenshot({ path: join(ARTIFACTS, `account-${label}.png`), fullPage: true });

        await page.getByRole('button', { name: 'I have saved it' }).click();
        await row.getByRole('button', { name: 'Revoke reporting script' }).click();
        const confirm = page.getByRole('group', { name: 'Confirm revoking reporting script' });
        await confirm.getByText('Revoke “reporting script”? What uses it stops working.').waitFor();
        await confirm.getByRole('button', { name: 'Yes, revoke' }).click();
        await row.locator('.badge', { hasText: 'revoked' }).waitFor();
        const after = await suite.app.inject({
          url: '/documents',
          headers: { authorization: `Bearer ${key}` },
        });
        expect(after.statusCode).toBe(401);
      } finally {
        await context.close();
      }
    });

  it('an admin sees every key with its owner, and may give a key the admin scope', async () => {
    const { context, page } = await signedInPage(suite, DESKTOP, adminToken);
    try {
      await page.getByRole('tab', { name: 'My account' }).click();
      const form = page.getByRole('form', { name: 'New API key' });
      await form.getByLabel('Key name').fill('user sync');
      await form.getByLabel('Read and search').uncheck();
      await form.getByLabel('Administer users').check();
      await form.getByRole('button', { name: 'Create API key' }).click();
      await page.locator('rattg-account [part="secret"] code').waitFor();
      await page.getByRole('tab', { name: 'Admin' }).click();
      await page.locator('rattg-admin tr[data-key="reporting script"][data-owner="kim-phone"]').waitFor();
      const mine = page.locator('rattg-admin tr[data-key="user sync"][data-owner="admin"]');
      expect(await mine.locator('td[data-label="May do"]').innerText()).toBe('Administer users');
    } finally {
      await context.close();
    }
  });
});
