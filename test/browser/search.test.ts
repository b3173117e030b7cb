/**
 * rattg-search in chromium: relevance a person can read (the cosine similarity as a percentage),
 * a floor under which hits wait behind "Show weaker matches" (a nonsense question says "No
 * passage matches well enough" instead of listing five random passages), page ranges, and the
 * original opened by a link whose answer carries `Content-Disposition: inline; filename=…`.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, login } from '../support/gateway.js';
import { multipart, TINY_PDF } from '../support/multipart.js';
import {
  DEEP_FOCUS,
  DESKTOP,
  NO_BROWSER,
  OVERFLOW,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

describe.skipIf(NO_BROWSER)('rattg-search in chromium', () => {
  let suite: BrowserSuite;
  let token: string;
  let docId: string;
  let pdfId: string;

  beforeAll(async () => {
    suite = await startBrowserSuite();
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    const form = multipart([
      { filename: 'travel policy.txt', content: 'Trains, not planes.\n', contentType: 'text/plain' },
    ]);
    const up = await suite.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { authorization: `Bearer ${token}`, ...form.headers },
      payload: form.payload,
    });
    docId = up.json().documents[0].id;
    const pdf = multipart([{ filename: 'handbook.pdf', content: TINY_PDF, contentType: 'application/pdf' }], {
      tags: 'hr, travel',
    });
    const up2 = await suite.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { authorization: `Bearer ${token}`, ...pdf.headers },
      payload: pdf.payload,
    });
    pdfId = up2.json().documents[0].id;
    // The filters offer indexed documents (no ingestor runs here).
    await suite.app.db('documents').whereIn('id', [docId, pdfId]).update({ status: 'indexed' });
  });

  const hit = (
    denseScore: number | null,
    chunkIndex: number,
    page: number | null = null,
    pageEnd: number | null = null,
  ) => ({
    documentId: docId,
    filename: 'travel policy.txt',
    chunkIndex,
    text: `Passage ${chunkIndex}: trains, not planes.`,
    score: 1 / (chunkIndex + 2),
    denseScore,
    page,
    pageEnd,
    heading: null,
  });

  /** POST /search is another part of the gateway; only its answer is faked here. */
  const answer = (page: Page, results: unknown[]) =>
    page.route('**/search', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ results, tookMs: 3 }) }),
    );
  const ask = async (page: Page, q: string) => {
    await page.getByLabel('Search your documents').fill(q);
    await page.keyboard.press('Enter');
  };
  const shown = (page: Page) => page.locator('rattg-search [part="result"]');

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`hides hits below the floor, says so, and shows them on request (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        await answer(page, [hit(0.31, 0), hit(0.28, 1), hit(null, 2)]);
        await ask(page, 'qwertzuiop asdfgh');
        await page.getByRole('status').filter({ hasText: 'No passage matches well enough.' }).waitFor();
        expect(await shown(page).count()).toBe(0);
        await page.getByRole('button', { name: 'Show 3 weaker matches' }).click();
        await expect.poll(() => shown(page).count()).toBe(3);
        expect(await shown(page).nth(0).textContent()).toContain('relevance 31%');
        expect(await shown(page).nth(2).textContent()).toContain('keyword match');

        await page.unroute('**/search');
        await answer(page, [hit(0.83, 0, 1, 2), hit(0.44, 1, 3)]);
        await ask(page, 'trains');
        await page.getByRole('status').filter({ hasText: '1 result · 1 weaker match hidden' }).waitFor();
        expect(await shown(page).count()).toBe(1);
        expect(await shown(page).first().textContent()).toContain('pages 1–2 · relevance 83%');
        await page.getByRole('button', { name: 'Show 1 weaker match' }).click();
        await expect.poll(() => shown(page).count()).toBe(2);
        expect(await shown(page).nth(1).textContent()).toContain('page 3 · relevance 44%');
      } finally {
        await context.close();
      }
    });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`narrows by tag and document, and opens the page the match is on (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        const bodies: unknown[] = [];
        let results: unknown[] = [];
        await page.route('**/search', async (route) => {
          bodies.push(route.request().postDataJSON());
          await route.fulfill({
            contentType: 'application/json',
            body: JSON.stringify({ results, tookMs: 3 }),
          });
        });
        await page.getByLabel('Tagged (any of, comma-separated)').fill('travel, hr');
        const only = page.getByLabel('Only in');
        await expect.poll(() => only.locator('option').count()).toBe(3);
        await only.selectOption({ label: 'handbook.pdf' });
        await ask(page, 'trains');
        await page
          .getByRole('status')
          .filter({ hasText: 'Nothing found with these filters. Clear them or try other words.' })
          .waitFor();
        expect(bodies.at(-1)).toMatchObject({
          query: 'trains',
          tags: ['travel', 'hr'],
          documentIds: [pdfId],
        });

        // Page 1 holds no query word; page 2 (from character 28) does.
        const text = 'Page one is about buses.\n\nTrains leave from platform 2 on page two.';
        results = [
          {
            ...hit(0.8, 0, 1, 2),
            documentId: pdfId,
            filename: 'handbook.pdf',
            text,
            pageBreaks: [[text.indexOf('Trains'), 2]],
          },
        ];
        await only.selectOption({ label: 'All documents' });
        await page.getByLabel('Tagged (any of, comma-separated)').fill('');
        await ask(page, 'trains platform');
        await expect.poll(() => shown(page).count()).toBe(1);
        expect(bodies.at(-1)).toEqual({ query: 'trains platform', limit: 10 });
        expect(await shown(page).first().textContent()).toContain('pages 1–2 (match on page 2)');
        expect(await page.evaluate(OVERFLOW)).toEqual([]);
        await shown(page).first().click();
        // The tab it would open: its URL, caught instead of opened.
        await page.evaluate('window.open = (url) => ((window.opened = String(url)), null)');
        await page.getByRole('button', { name: 'Open the original at page 2' }).click();
        await expect
          .poll(() => page.evaluate<string>("window.opened ?? ''"))
          .toMatch(new RegExp(`/documents/${pdfId}/content\\?token=[^#]+#page=2$`));
      } finally {
        await context.close();
      }
    });

  it('opens the original by a link: inline, with the file name, in a tab of its own', async () => {
    const { context, page } = await signedInPage(suite, DESKTOP, token);
    try {
      await answer(page, [hit(0.9, 0)]);
      await ask(page, 'trains');
      await shown(page).first().click();
      const [popup] = await Promise.all([
        context.waitForEvent('page'),
        page.getByRole('button', { name: 'Open the original' }).click(),
      ]);
      await popup.waitForLoadState();
      const url = new URL(popup.url());
      expect(url.pathname).toBe(`/documents/${docId}/content`);
      expect(await popup.textContent('body')).toContain('Trains, not planes.');
      const res = await suite.app.inject({ url: url.pathname + url.search });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-disposition']).toMatch(/^inline; filename="travel policy.txt"/);
      // The link opens this document only.
      const other = await suite.app.inject({
        url: `/documents/00000000-0000-4000-8000-000000000000/content${url.search}`,
      });
      expect(other.statusCode).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('highlights the query terms as text, and opens a preview in context that keeps the focus', async () => {
    const { context, page } = await signedInPage(suite, DESKTOP, token);
    try {
      const sent: unknown[] = [];
      await page.route('**/search', async (route) => {
        sent.push({ body: route.request().postDataJSON(), auth: route.request().headers().authorization });
        await route.fulfill({
          contentType: 'application/json',
          body: JSON.stringify({
            tookMs: 4,
            results: [
              {
                ...hit(0.82, 1, 2, 3),
                text: 'Holiday policy: everyone gets 30 holiday days.',
                heading: 'Leave',
              },
              { ...hit(0.61, 0, 1), text: 'Welcome <b>aboard</b>.' },
            ],
          }),
        });
      });
      await ask(page, 'holiday policy');
      await page.getByRole('status').filter({ hasText: '2 results' }).waitFor();
      expect(sent).toEqual([
        { body: { query: 'holiday policy', limit: 10 }, auth: expect.stringMatching(/^Bearer /) },
      ]);
      const first = shown(page).first();
      expect(await first.locator('mark').allTextContents()).toEqual(['Holiday', 'policy', 'holiday']);
      expect(await first.textContent()).toContain('pages 2–3 · Leave · relevance 82%');
      // Passage text is text: the <b> arrives as characters.
      expect(await shown(page).nth(1).textContent()).toContain('Welcome <b>aboard</b>.');
      await first.focus();
      await page.keyboard.press('Enter');
      const preview = page.locator('rattg-search [part="preview"]');
      await preview.waitFor();
      expect(await page.evaluate<string>(DEEP_FOCUS)).toMatch(/^\|/); // the panel itself took the focus
      expect(await preview.locator('.passage').allTextContents()).toEqual([
        'Welcome <b>aboard</b>.',
        'Holiday policy: everyone gets 30 holiday days.',
      ]);
      // Without recorded page breaks the passage's first page is opened.
      await preview.getByRole('button', { name: 'Open the original at page 2' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
