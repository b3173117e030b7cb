/**
 * rattg-admin in chromium: the guard rails of the API are mirrored — no Delete next to your own
 * account or a service account (the API refuses both, with a reason) — and deleting someone else
 * asks first, naming the account.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createUser, login } from '../support/gateway.js';
import {
  ARTIFACTS,
  DEEP_FOCUS,
  DESKTOP,
  NO_BROWSER,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

describe.skipIf(NO_BROWSER)('rattg-admin in chromium', () => {
  let suite: BrowserSuite;
  let token: string;

  beforeAll(async () => {
    // A published demo secret, so the tab must warn about it.
    suite = await startBrowserSuite({ JWT_SECRET: 'supersecretkey' });
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    await createUser(suite.app, token, { username: 'openwebui-like', roles: ['service'] });
    for (const username of ['bob-phone', 'bob-desktop']) await createUser(suite.app, token, { username });
  });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`offers no Delete for yourself or a service account; asks by name for others (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        await page.getByRole('tab', { name: 'Admin' }).click();
        const user = (name: string) => page.locator(`rattg-admin tr[data-user="${name}"]`);
        await user('admin').waitFor();
        expect(
          await user('admin')
            .getByRole('button', { name: /^Delete/ })
            .count(),
        ).toBe(0);
        expect(await user('admin').locator('[part="account-kind"]').textContent()).toBe('you');
        expect(
          await user('openwebui-like')
            .getByRole('button', { name: /^Delete/ })
            .count(),
        ).toBe(0);
        expect(await user('openwebui-like').locator('[part="account-kind"]').textContent()).toBe(
          'service account',
        );
        // Your own edit form has no "Disabled" box.
        await user('admin').getByRole('button', { name: 'Edit admin' }).click();
        expect(await page.getByRole('form', { name: 'Edit admin' }).getByLabel('Disabled').count()).toBe(0);
        await page.getByRole('form', { name: 'Edit admin' }).getByRole('button', { name: 'Cancel' }).click();

        // Even a hand-made request from this page is refused, with words.
        const refused = await page.evaluate(
          `fetch('/users/' + ${JSON.stringify((await suite.app.db('users').where({ username: 'admin' }).first('id')).id)}, {
             method: 'DELETE', headers: { authorization: 'Bearer ' + sessionStorage.getItem('rattg-widget-token:') } })
           .then(async (r) => [r.status, (await r.json()).message])`,
        );
        expect(refused).toEqual([409, 'You cannot delete your own account; ask another admin']);

        const bob = `bob-${label}`;
        await user(bob)
          .getByRole('button', { name: `Delete ${bob}` })
          .click();
        const confirm = page.getByRole('group', { name: `Confirm deletion of ${bob}` });
        await confirm.getByText(`Delete the account “${bob}” and its API keys?`).waitFor();
        expect(await page.evaluate<string>(DEEP_FOCUS)).toContain(`Yes, delete ${bob}`);
        await page.screenshot({ path: join(ARTIFACTS, `admin-confirm-${label}.png`), fullPage: true });
        await confirm.getByRole('button', { name: `Yes, delete ${bob}` }).click();
        await expect.poll(() => user(bob).count()).toBe(0);
        expect(await suite.app.db('users').where({ username: bob }).first('id')).toBeUndefined();
      } finally {
        await context.close();
      }
    });

  it('warns about published demo secrets and creates a user from the form', async () => {
    const { context, page } = await signedInPage(suite, DESKTOP, token);
    try {
      await page.getByRole('tab', { name: 'Admin' }).click();
      await page.locator('rattg-admin [part="warning"]', { hasText: 'JWT_SECRET' }).waitFor();
      const form = page.getByRole('form', { name: 'New user' });
      await form.getByLabel('Username').fill('dana');
      await form.getByLabel('Password').fill('dana-password-1');
      await form.getByLabel('Groups (comma-separated)').fill('sales');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.locator('rattg-admin tr[data-user="dana"]').waitFor();
      const dana = await suite.app.db('users').where({ username: 'dana' }).first('roles', 'groups');
      expect(dana).toEqual({ roles: ['user'], groups: ['sales'] });
    } finally {
      await context.close();
    }
  });
});
