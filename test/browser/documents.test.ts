/**
 * rattg-documents in chromium: words for what happened (a filter with no match, a file that can
 * never be indexed, "1 passage"), deletion that names what is deleted, and server-side paging
 * and sorting through 230 older documents with owner, date and source columns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
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

  /** Upload as the admin through the real route (no ingestor: it stays `pending`). */
  const upload = async (filename: string, content: string) => {
    const form = multipart([{ filename, content, contentType: 'text/plain' }]);
    const res = await suite.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { authorization: `Bearer ${token}`, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(201);
    return res.json().documents[0].id as string;
  };

  it('status and progress change live; access, re-index and delete after a confirmation; names are text', async () => {
    const xss = '<img src=x onerror=alert(1)>.txt';
    const live = await upload('live-handbook.txt', 'Holiday policy: everyone gets 30 days.\n');
    await upload('live-notes.txt', 'The coffee machine is on floor 2.\n');
    await upload(xss, 'harmless text about a picture\n');
    const { context, page } = await signedInPage(suite, DESKTOP, token);
    const dialogs: string[] = [];
    page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
    try {
      await page.getByRole('tab', { name: 'Documents' }).click();
      await page.locator('rattg-documents [part="live"][data-live="live"]').waitFor();
      const handbook = row(page, 'live-handbook.txt');
      expect(await handbook.locator('[part="badge"]').textContent()).toBe('Waiting');
      await suite.app.db('documents').where({ id: live }).update({ status: 'processing', progress: 0.4 });
      await handbook.locator('[part="badge"]', { hasText: 'Indexing' }).waitFor();
      const bar = page.getByRole('progressbar', { name: 'Indexing live-handbook.txt' });
      await expect
        .poll(() => bar.evaluate((el) => (el as unknown as { value: number }).value))
        .toBeCloseTo(0.4);
      // A service it needs went down: `waiting`, with the reason and when it is tried again.
      await suite.app
        .db('documents')
        .where({ id: live })
        .update({
          status: 'waiting',
          error: 'The embedding service (Ollama) is not answering (OLLAMA_UNAVAILABLE)',
          next_attempt_at: new Date(Date.now() + 90_000),
        });
      await handbook.locator('[part="badge"]', { hasText: 'Retrying' }).waitFor();
      await handbook.getByText('The embedding service (Ollama) is not answering').waitFor();
      expect(await handbook.locator('[part="next-attempt"]').textContent()).toContain('Next attempt at');
      await suite.app.db('documents').where({ id: live }).update({
        status: 'indexed',
        progress: 1,
        chunk_count: 3,
        indexed_at: new Date(),
        error: null,
        next_attempt_at: null,
      });
      await handbook.locator('[part="badge"]', { hasText: 'Indexed' }).waitFor();
      expect(await handbook.textContent()).toContain('3 passages');
      await page
        .getByRole('status')
        .filter({ hasText: 'live-handbook.txt: Indexed' })
        .waitFor({ state: 'attached' });

      // The HTML-looking name is text: no <img>, no alert.
      await row(page, xss).waitFor();
      expect(await page.locator('rattg-documents img').count()).toBe(0);

      await row(page, 'live-notes.txt').getByLabel('Who may read live-notes.txt').selectOption('org');
      await expect
        .poll(
          async () =>
            (await suite.app.db('documents').where({ filename: 'live-notes.txt' }).first('access')).access,
        )
        .toBe('org');
      await suite.app
        .db('documents')
        .where({ filename: 'live-notes.txt' })
        .update({ status: 'failed', error: 'Parser gave up' });
      await row(page, 'live-notes.txt').getByText('Parser gave up').waitFor();
      await row(page, 'live-notes.txt').getByRole('button', { name: 'Re-index live-notes.txt' }).click();
      await row(page, 'live-notes.txt').locator('[part="badge"]', { hasText: 'Waiting' }).waitFor();

      await row(page, xss)
        .getByRole('button', { name: `Delete ${xss}` })
        .click();
      // The confirmation takes the focus, so the keyboard can answer it.
      expect(await page.evaluate<string>(DEEP_FOCUS)).toContain('Yes, delete');
      await page
        .getByRole('group', { name: `Confirm deletion of ${xss}` })
        .getByRole('button', { name: 'Yes, delete' })
        .click();
      await expect.poll(() => row(page, xss).count()).toBe(0);
      expect((await suite.app.db('documents').where({ filename: xss }).first('status')).status).toBe(
        'deleted',
      );
      expect(dialogs).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the live status stream reconnects after a drop, with a fresh token', async () => {
    const id = await upload('reconnect.txt', 'reconnecting text\n');
    const context = await suite.browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(8000);
    await context.addInitScript(`sessionStorage.setItem('rattg-widget-token:', ${JSON.stringify(token)})`);
    // The first connection drops; later ones go through to the real gateway.
    const streams: string[] = [];
    await context.route('**/documents/events?**', async (route) => {
      streams.push(new URL(route.request().url()).searchParams.get('token') ?? '');
      if (streams.length === 1) await route.abort('connectionreset');
      else await route.continue();
    });
    const page = await context.newPage();
    try {
      await page.goto(`${suite.base}/?api-base=`);
      await page.getByRole('tab', { name: 'Documents' }).click();
      await page.locator('rattg-documents [part="live"][data-live="live"]').waitFor();
      expect(streams.length).toBeGreaterThanOrEqual(2);
      expect(streams[1]).not.toBe(streams[0]);
      await suite.app.db('documents').where({ id }).update({ status: 'processing', progress: 0.7 });
      await row(page, 'reconnect.txt').locator('[part="badge"]', { hasText: 'Indexing' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
