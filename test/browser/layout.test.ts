/**
 * rattg-widget's layout in a real chromium at a phone (390×844, and the narrowest 320 px) and a
 * desktop (1280×800): nothing sticks out sideways on any tab or on the demo page, tables turn into
 * cards on a phone, the dark colour scheme is followed, the focus is visible, and Escape closes
 * the search preview.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, login } from '../support/gateway.js';
import {
  ARTIFACTS,
  DEEP_FOCUS,
  DESKTOP,
  NO_BROWSER,
  OVERFLOW,
  PHONE,
  signedInPage,
  startBrowserSuite,
  type BrowserSuite,
} from './support.js';

const LONG_NAME = 'Quarterly-financial-report-of-the-northern-region-2026-final-version-reviewed.pdf';
const SIZES = {
  'phone 390×844': PHONE,
  'small phone 320×640': { width: 320, height: 640 },
  'desktop 1280×800': DESKTOP,
};

describe.skipIf(NO_BROWSER)('rattg-widget layout in chromium', () => {
  let suite: BrowserSuite;
  let token: string;

  beforeAll(async () => {
    suite = await startBrowserSuite({ JWT_SECRET: 'a-long-test-secret-that-is-not-the-demo-one' });
    token = await login(suite.app, ADMIN.username, ADMIN.password);
    const admin = await suite.app.db('users').where({ username: 'admin' }).first('id');
    // Rows straight into the table: this suite looks at how they are shown, not at ingestion.
    await suite.app.db('documents').insert(
      [LONG_NAME, 'notes.md', 'handbook.txt'].map((filename, i) => ({
        owner_id: admin.id,
        filename,
        mime: filename.endsWith('.pdf') ? 'application/pdf' : 'text/plain; charset=utf-8',
        size: 1000 * (i + 1),
        sha256: String(i).repeat(64),
        storage_key: `layout/${i}`,
        status: i === 0 ? 'failed' : 'indexed',
        error: i === 0 ? 'The PDF is encrypted; upload a copy without a password' : null,
        chunk_count: i,
        tags: i === 0 ? ['finance', 'reports', 'north'] : [],
      })),
    );
  });

  for (const [label, viewport] of Object.entries(SIZES))
    it(`nothing is wider than the screen at ${label}: demo page, sign-in and every tab`, async () => {
      const anonymous = await signedInPage(suite, viewport, null);
      try {
        await anonymous.page.getByLabel('Username').waitFor();
        expect(await anonymous.page.evaluate<string[]>(OVERFLOW)).toEqual([]);
      } finally {
        await anonymous.context.close();
      }
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        for (const tab of ['Search', 'Upload', 'Documents', 'My account', 'Admin']) {
          await page.getByRole('tab', { name: tab }).click();
          if (tab === 'Documents') await page.locator('rattg-documents [part="row"]').first().waitFor();
          if (tab === 'Admin') await page.locator('rattg-admin tr[data-user="admin"]').waitFor();
          expect({ tab, overflow: await page.evaluate<string[]>(OVERFLOW) }).toEqual({ tab, overflow: [] });
          await page.screenshot({
            path: join(ARTIFACTS, `layout-${viewport.width}-${tab.toLowerCase().replace(' ', '-')}.png`),
            fullPage: true,
          });
        }
      } finally {
        await context.close();
      }
    });

  it('a phone shows documents as cards with labelled fields; a desktop keeps the table', async () => {
    for (const [viewport, display] of [
      [PHONE, 'block'],
      [DESKTOP, 'table-row'],
    ] as const) {
      const { context, page } = await signedInPage(suite, viewport, token);
      try {
        await page.getByRole('tab', { name: 'Documents' }).click();
        const card = page.locator('rattg-documents [part="row"]').filter({ hasText: LONG_NAME });
        await card.waitFor();
        expect(await card.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).display)).toBe(
          display,
        );
        // The long name wraps at its hyphens, not in the middle of a word.
        const name = card.locator('.name');
        expect(
          await name.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).overflowWrap),
        ).toBe('break-word');
        if (display === 'block') {
          const label = await card
            .locator('td[data-label="Status"]')
            .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el, '::before').content);
          expect(label).toBe('"Status"');
        }
      } finally {
        await context.close();
      }
    }
  });

  it('follows prefers-color-scheme: dark, through the same custom properties', async () => {
    const dark = await signedInPage(suite, PHONE, token, { colorScheme: 'dark' });
    const light = await signedInPage(suite, PHONE, token, { colorScheme: 'light' });
    try {
      const luminance = (p: typeof dark.page) =>
        p.locator('rattg-widget').evaluate((el) => {
          const [r, g, b] = el.ownerDocument
            .defaultView!.getComputedStyle(el)
            .backgroundColor.match(/\d+/g)!
            .map(Number);
          return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
        });
      expect(await luminance(dark.page)).toBeLessThan(0.25);
      expect(await luminance(light.page)).toBeGreaterThan(0.85);
      const text = await dark.page
        .locator('rattg-widget')
        .evaluate((el) =>
          el.ownerDocument.defaultView!.getComputedStyle(el).color.match(/\d+/g)!.map(Number),
        );
      expect(Math.min(...text)).toBeGreaterThan(180); // light text on the dark background
      // A host page's own colours still win over the dark defaults.
      await dark.page
        .locator('rattg-widget')
        .evaluate((el) =>
          (el as unknown as { style: { setProperty(name: string, value: string): void } }).style.setProperty(
            '--rattg-color-bg',
            'rgb(1, 2, 3)',
          ),
        );
      expect(
        await dark.page
          .locator('rattg-widget')
          .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor),
      ).toBe('rgb(1, 2, 3)');
      await dark.page.screenshot({ path: join(ARTIFACTS, 'layout-dark-search.png') });
    } finally {
      await dark.context.close();
      await light.context.close();
    }
  });

  it('the keyboard focus is visible, and Escape closes the search preview', async () => {
    const { context, page } = await signedInPage(suite, PHONE, token);
    try {
      const doc = await suite.app.db('documents').where({ filename: 'notes.md' }).first('id');
      // POST /search belongs to another part of the gateway; only its answer is faked here.
      await page.route('**/search', (route) =>
        route.fulfill({
          contentType: 'application/json',
          body: JSON.stringify({
            results: [
              {
                documentId: doc.id,
                filename: 'notes.md',
                chunkIndex: 0,
                text: 'The coffee machine is on floor 2.',
                score: 0.8,
                denseScore: 0.8,
                page: null,
                heading: null,
              },
            ],
          }),
        }),
      );
      await page.getByLabel('Search your documents').fill('coffee');
      await page.keyboard.press('Enter');
      const result = page.locator('rattg-search [part="result"]').first();
      await result.waitFor();
      await result.focus();
      expect(
        await result.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).outlineStyle),
      ).not.toBe('none');
      await page.keyboard.press('Enter');
      const preview = page.locator('rattg-search [part="preview"]');
      await preview.waitFor();
      expect(await page.evaluate<string[]>(OVERFLOW)).toEqual([]);
      await page.keyboard.press('Escape');
      await expect.poll(() => preview.count()).toBe(0);
      // The focus goes back to the result that was open.
      expect(await page.evaluate<string>(DEEP_FOCUS)).toContain('notes.md');
    } finally {
      await context.close();
    }
  });
});
