/**
 * rattg-documents in chromium: words for what happened (a filter with no match, a file that can
 * never be indexed, "1 passage"), and deletion that names what is deleted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN, login } from '../support/gateway.js';
import { DESKTOP, NO_BROWSER, PHONE, signedInPage, startBrowserSuite, type BrowserSuite } from './support.js';

describe.skipIf(NO_BROWSER)('rattg-documents in chromium', () => {
  let suite: BrowserSuite;
  let token: string;

  beforeAll(async () => {
    suite = await startBrowserSuite();
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    const admin = await suite.app.db('users').where({ username: 'admin' }).first('id');
    await suite.app.db('documents').insert([
      {
        owner_id: admin.id,
        filename: 'one-passage.txt',
        mime: 'text/plain; charset=utf-8',
        size: 10,
        sha256: 'a'.repeat(64),
        storage_key: 'x/one-passage.txt',
        status: 'indexed',
        chunk_count: 1,
      },
      // What the drop folder records for a file it refuses: nothing stored, no owner.
      {
        owner_id: null,
        filename: 'setup.exe',
        mime: 'application/octet-stream',
        size: 0,
        sha256: '',
        storage_key: '',
        source: 'drop',
        source_path: 'admin/setup.exe',
        status: 'failed',
        error: 'Files of type .exe are not indexed. Supported types: pdf, docx',
      },
    ]);
  });

  const row = (page: Page, name: string) =>
    page.locator('rattg-documents [part="row"]').filter({ has: page.getByText(name, { exact: true }) });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`says what happened: no match for a filter, "1 passage", no re-index of a refused file (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        await page.getByRole('tab', { name: 'Documents' }).click();
        await row(page, 'one-passage.txt').getByText('1 passage', { exact: true }).waitFor();
        const refused = row(page, 'setup.exe');
        await refused.getByText('Files of type .exe are not indexed').waitFor();
        // Nothing is stored: no Open, Download or Re-index; Delete stays (to clear the entry).
        expect(await refused.getByRole('button').allInnerTexts()).toEqual(['Delete']);
        expect(
          await row(page, 'one-passage.txt')
            .getByRole('button', { name: 'Re-index one-passage.txt' })
            .count(),
        ).toBe(1);

        await page.getByLabel('Filter by file name').fill('no-such-file');
        await page.keyboard.press('Enter');
        await page
          .locator('rattg-documents [part="empty"]', {
            hasText: 'No document’s name contains “no-such-file”. Clear the filter to see all documents.',
          })
          .waitFor();
        expect(await page.locator('rattg-documents').textContent()).not.toContain('No documents yet');

        // Deleting names the document in the question.
        await page.getByLabel('Filter by file name').fill('');
        await page.keyboard.press('Enter');
        await row(page, 'setup.exe').getByRole('button', { name: 'Delete setup.exe' }).click();
        await page
          .getByRole('group', { name: 'Confirm deletion of setup.exe' })
          .getByText('Delete “setup.exe” for good?')
          .waitFor();
        await page.getByRole('button', { name: 'Cancel' }).click();
      } finally {
        await context.close();
      }
    });
});
