/**
 * rattg-upload in chromium: the server's limits (`GET /config`) are known before anything is sent,
 * so a too-large file or a type that is never indexed is refused in the browser with the same
 * words the server would use, and no byte of it goes over the wire.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, login } from '../support/gateway.js';
import { DESKTOP, NO_BROWSER, PHONE, signedInPage, startBrowserSuite, type BrowserSuite } from './support.js';

describe.skipIf(NO_BROWSER)('rattg-upload in chromium', () => {
  let suite: BrowserSuite;
  let token: string;

  beforeAll(async () => {
    suite = await startBrowserSuite({ MAX_UPLOAD_MB: '1' });
    token = await login(suite.app, ADMIN.username, ADMIN.password);
  });

  for (const [label, viewport] of Object.entries({ phone: PHONE, desktop: DESKTOP }))
    it(`refuses a too-large file and an unindexed type before sending them (${label})`, async () => {
      const { context, page } = await signedInPage(suite, viewport, token);
      const uploads: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/upload')) uploads.push(r.url());
      });
      try {
        await page.getByRole('tab', { name: 'Upload' }).click();
        await page.locator('rattg-upload [part="dropzone"]', { hasText: 'up to 1 MB each' }).waitFor();
        await page.locator('rattg-upload input[type="file"]').setInputFiles([
          { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(1024 * 1024 + 1, 'a') },
          { name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a]) },
          { name: `ok-${label}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`fits on a ${label}\n`) },
        ]);
        const item = (name: string) =>
          page.locator('rattg-upload li').filter({ has: page.getByText(name, { exact: true }) });
        await item('big.txt')
          .filter({ hasText: 'Too large: The file is larger than the limit of 1 MB' })
          .waitFor();
        await item('tool.exe')
          .filter({ hasText: 'Unsupported type: “.exe” files are not indexed. Supported types: pdf' })
          .waitFor();
        await item(`ok-${label}.txt`).filter({ hasText: 'Uploaded' }).waitFor();
        // Only the file that fits was sent.
        expect(uploads).toHaveLength(1);
        expect(await item('big.txt').getAttribute('data-state')).toBe('error');
      } finally {
        await context.close();
      }
    });

  it('uploads several files, each with its own progress bar and the API’s words for failures', async () => {
    const { context, page } = await signedInPage(suite, DESKTOP, token);
    try {
      await page.getByRole('tab', { name: 'Upload' }).click();
      const input = page.locator('rattg-upload input[type="file"]');
      await input.setInputFiles([
        {
          name: 'handbook.txt',
          mimeType: 'text/plain',
          buffer: Buffer.from('Holiday policy: everyone gets 30 days.\n'),
        },
        {
          name: 'notes.md',
          mimeType: 'text/markdown',
          buffer: Buffer.from('# Notes\n\nThe coffee machine is on floor 2.\n'),
        },
      ]);
      const items = page.locator('rattg-upload li');
      await expect.poll(() => items.count()).toBe(2);
      await items.filter({ hasText: 'Uploaded; indexing starts now' }).nth(1).waitFor();
      for (const name of ['handbook.txt', 'notes.md']) {
        const bar = page.getByRole('progressbar', { name: `Upload of ${name}` });
        const [value, max] = await bar.evaluate((el) => [
          (el as unknown as { value: number }).value,
          Number(el.getAttribute('max')),
        ]);
        expect(max).toBeGreaterThan(0);
        expect(value).toBe(max);
      }
      // A duplicate (the server's 200 with `duplicate`) and a name that looks like HTML.
      const xss = '<img src=x onerror=alert(1)>.txt';
      await input.setInputFiles([
        {
          name: 'handbook-copy.txt',
          mimeType: 'text/plain',
          buffer: Buffer.from('Holiday policy: everyone gets 30 days.\n'),
        },
        { name: xss, mimeType: 'text/plain', buffer: Buffer.from('harmless text about a picture\n') },
      ]);
      const item = (name: string) => items.filter({ has: page.getByText(name, { exact: true }) });
      await item('handbook-copy.txt')
        .filter({ hasText: 'Duplicate: you already uploaded this file (as “handbook.txt”)' })
        .waitFor();
      await item(xss).filter({ hasText: 'Uploaded' }).waitFor();
      expect(await page.locator('rattg-upload img').count()).toBe(0);
      const stored = await suite.app
        .db('documents')
        .whereIn('filename', ['handbook.txt', 'notes.md', 'handbook-copy.txt', xss])
        .pluck('filename');
      expect(stored.sort()).toEqual([xss, 'handbook.txt', 'notes.md']);
    } finally {
      await context.close();
    }
  });
});
