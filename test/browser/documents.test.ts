/**
 * rattg-documents in chromium: words for what happened (a filter with no match, a file that can
 * never be indexed, "1 passage"), deletion that names what is deleted, and server-side paging
 * and sorting through 230 older documents with owner, date and source columns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN, createUser, login } from '../support/gateway.js';
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
    // 230 older ones, a tenth of them bob's and from the drop folder.
    const bob = await createUser(suite.app, token, { username: 'bob' });
    await suite.app.db('documents').insert(
      Array.from({ length: 230 }, (_, i) => ({
        owner_id: i % 10 === 0 ? bob.id : admin.id,
        filename: `bulk-${String(i).padStart(3, '0')}.txt`,
        mime: 'text/plain; charset=utf-8',
        size: 100 + i,
        sha256: `c${String(i).padStart(63, '0')}`,
        storage_key: `bulk/${i}`,
        source: i % 10 === 0 ? 'drop' : 'upload',
        source_path: i % 10 === 0 ? `bob/bulk-${i}.txt` : null,
        status: 'indexed',
        chunk_count: 2,
        created_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
      })),
    );
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

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`pages past 200 documents and sorts on the server, with owner, date and source (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, token);
      const requests: string[] = [];
      page.on('request', (r) => {
        const url = new URL(r.url());
        if (url.pathname === '/documents') requests.push(url.search);
      });
      try {
        await page.getByRole('tab', { name: 'Documents' }).click();
        const pager = page.locator('rattg-documents [part="pager"]');
        await pager.getByText('Documents 1–50 of 232 · page 1 of 5').waitFor();
        for (let p = 2; p <= 5; p++) {
          await pager.getByRole('button', { name: 'Next' }).click();
          await pager.getByText(`page ${p} of 5`).waitFor();
        }
        await pager.getByText('Documents 201–232 of 232').waitFor();
        expect(await pager.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
        // Newest first: the last page ends with the oldest, bulk-000, bob's, from the drop folder.
        const oldest = row(page, 'bulk-000.txt');
        await oldest.waitFor();
        expect(await oldest.locator('td[data-label="Owner"]').innerText()).toBe('bob');
        expect(await oldest.locator('td[data-label="Source"]').innerText()).toContain('drop folder');
        expect(await oldest.locator('td[data-label="Source"]').innerText()).toContain('bob/bulk-0.txt');
        expect(await oldest.locator('time').getAttribute('datetime')).toBe('2026-01-01T00:00:00.000Z');
        expect(await page.locator('rattg-documents [part="row"]').count()).toBe(32);
        expect(requests.at(-1)).toContain('offset=200');

        // Sort by name Z–A: back to page 1, sorted by the server.
        await page.getByLabel('Sort by').selectOption({ label: 'File name, Z–A' });
        await pager.getByText('Documents 1–50 of 232 · page 1 of 5').waitFor();
        await expect
          .poll(async () =>
            (await page.locator('rattg-documents [part="row"] .name').allInnerTexts()).slice(0, 3),
          )
          .toEqual(['setup.exe', 'one-passage.txt', 'bulk-229.txt']);
        expect(requests.at(-1)).toMatch(/sort=filename&order=desc/);
        if (label === 'desktop') {
          // The column header sorts too, and says how.
          await page.locator('rattg-documents th').getByRole('button', { name: 'Owner' }).click();
          await expect
            .poll(() => page.locator('rattg-documents th[aria-sort="ascending"]').innerText())
            .toContain('Owner');
          expect(requests.at(-1)).toMatch(/sort=owner&order=asc/);
        }
      } finally {
        await context.close();
      }
    });
});
