/**
 * rattg-queue in chromium (the top of the Documents tab): each of your queued documents with its
 * place in the whole queue and an ETA from the measured throughput, and Cancel, after which the
 * document is shown `Cancelled` in the list (through the live status stream). No ingestor runs
 * here, so uploads stay queued for as long as the test needs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN, createUser, login } from '../support/gateway.js';
import { multipart } from '../support/multipart.js';
import {
  DESKTOP,
  NO_BROWSER,
  OVERFLOW,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

describe.skipIf(NO_BROWSER)('rattg-queue in chromium', () => {
  let suite: BrowserSuite;
  let bob: { id: string; token: string };

  beforeAll(async () => {
    suite = await startBrowserSuite();
    const admin = await login(suite.app, ADMIN.username, ADMIN.password);
    bob = await createUser(suite.app, admin, { username: 'bob' });
    // Two finished runs measure the throughput: 2000 bytes in 1 s each.
    const t = Date.now();
    await suite.app.db('documents').insert(
      [0, 1].map((i) => ({
        owner_id: bob.id,
        filename: `measured-${i}.txt`,
        mime: 'text/plain; charset=utf-8',
        size: 2000,
        sha256: String(i).padStart(64, 'e'),
        storage_key: `k/measured-${i}`,
        status: 'indexed',
        chunk_count: 1,
        processing_started_at: new Date(t - 5000),
        indexed_at: new Date(t - 4000),
      })),
    );
  });

  const upload = async (filename: string, bytes: number) => {
    // Content of its own: the same bytes again would be the existing document (200, not 201).
    const content = filename.padEnd(bytes, 'q');
    const form = multipart([{ filename, content, contentType: 'text/plain' }]);
    const res = await suite.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { authorization: `Bearer ${bob.token}`, ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(201);
  };
  const item = (page: Page, name: string) =>
    page.locator('rattg-queue [part="item"]').filter({ has: page.getByText(name, { exact: true }) });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`shows position and ETA, and cancels a queued document (${label})`, async () => {
      const first = `first-${label}.txt`;
      const second = `second-${label}.txt`;
      await upload(first, 4000);
      await upload(second, 6000);
      const { context, page } = await signedInPage(suite, viewport, bob.token);
      try {
        await page.getByRole('tab', { name: 'Documents' }).click();
        const queue = page.locator('rattg-queue [part="queue"]');
        await queue.getByRole('heading', { name: 'Ingestion queue' }).waitFor();
        await queue.getByText('measured 2.0 KB/s per document over the last 2 runs').waitFor();
        await item(page, first).getByText('Number 1 in the queue').waitFor();
        // 4000 B at 2000 B/s; the second waits for the first too: 10000 B.
        expect(await item(page, first).textContent()).toContain('about 2 s left');
        expect(await item(page, second).textContent()).toContain('about 5 s left');
        expect(await page.evaluate(OVERFLOW)).toEqual([]);
        await page.screenshot({ path: `test/browser/artifacts/queue-${label}.png`, fullPage: true });

        await page.getByRole('button', { name: `Cancel indexing ${first}` }).click();
        await expect.poll(() => item(page, first).count()).toBe(0);
        await item(page, second).getByText('Number 1 in the queue').waitFor();
        const row = page
          .locator('rattg-documents [part="row"]')
          .filter({ has: page.getByText(first, { exact: true }) });
        await row.locator('[part="badge"]').filter({ hasText: 'Cancelled' }).waitFor();
        await row.getByText('Cancelled by bob; re-index to index it').waitFor();
        // It can be indexed again.
        expect(await row.getByRole('button', { name: `Re-index ${first}` }).count()).toBe(1);
        // Leave the queue empty for the next viewport.
        await page.getByRole('button', { name: `Cancel indexing ${second}` }).click();
        await expect.poll(() => page.locator('rattg-queue [part="queue"]').count()).toBe(0);
      } finally {
        await context.close();
      }
    });
});
