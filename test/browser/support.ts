/**
 * Shared set-up of the browser suites: Debian's chromium (never a downloaded browser) driven by
 * playwright-core, the widget bundle built into a temporary folder, the real gateway serving it and
 * the demo page. Each suite file calls `startBrowserSuite()` once in `beforeAll`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startGateway } from '../support/gateway.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, 'artifacts');
/** Off CI a machine without chromium skips; .ci/run installs it, so CI always runs these. */
export const NO_BROWSER = !existsSync(CHROMIUM) && !process.env.CI;

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

export interface BrowserSuite {
  app: FastifyInstance;
  base: string;
  browser: Browser;
}

export async function startBrowserSuite(env: Record<string, string> = {}): Promise<BrowserSuite> {
  const widgetDir = await mkdtemp(join(tmpdir(), 'rattg-widget-build-'));
  await mkdir(ARTIFACTS, { recursive: true });
  const [{ app, base }, browser] = await Promise.all([
    (async () => {
      await promisify(execFile)(process.execPath, ['widget/build.mjs', '--outdir', widgetDir]);
      const app = await startGateway({ WIDGET_DIR: widgetDir, ...env });
      return { app, base: await app.listen({ host: '127.0.0.1', port: 0 }) };
    })(),
    chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    }),
  ]);
  afterAll(async () => {
    await browser.close();
    await rm(widgetDir, { recursive: true, force: true });
  });
  return { app, base, browser };
}

/** A fresh context (own sessionStorage) of the given size, already signed in with `token`. */
export async function signedInPage(
  suite: BrowserSuite,
  viewport: { width: number; height: number },
  token: string | null,
  opts: { colorScheme?: 'light' | 'dark' } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await suite.browser.newContext({ viewport, colorScheme: opts.colorScheme ?? 'light' });
  context.setDefaultTimeout(8000);
  if (token)
    await context.addInitScript(`sessionStorage.setItem('rattg-widget-token:', ${JSON.stringify(token)})`);
  const page = await context.newPage();
  await page.goto(`${suite.base}/?api-base=`);
  await page.locator('rattg-widget').waitFor();
  if (token) await page.getByText('Signed in as').waitFor();
  return { context, page };
}

/** The focused element, through shadow roots: "id|role|text". */
export const DEEP_FOCUS = `(() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? [a.id, a.getAttribute('role') || '', (a.textContent || '').trim()].join('|') : '';
})()`;

/**
 * Everything that sticks out of the viewport sideways, shadow roots included: a tag and its
 * extent for each offender. Content inside a scroll container that itself fits (a <pre> that
 * scrolls) does not count, nor does visually hidden text; content cut off by `overflow: hidden`
 * does (that is what "cut off" looks like). The page itself must not scroll sideways either.
 */
export const OVERFLOW = `(() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > vw) out.push('page scrollWidth ' + document.documentElement.scrollWidth);
  const parentOf = (n) => n.parentElement || (n.getRootNode() instanceof ShadowRoot ? n.getRootNode().host : null);
  const excused = (el) => {
    for (let p = parentOf(el); p; p = parentOf(p)) {
      const s = getComputedStyle(p);
      const r = p.getBoundingClientRect();
      if (s.overflowX !== 'visible' && r.width <= 2) return true; // visually hidden (sr-only)
      if (s.overflowX === 'auto' || s.overflowX === 'scroll') return r.right <= vw + 1 && r.left >= -1;
    }
    return false;
  };
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 2 && (r.right > vw + 1 || r.left < -1) && !excused(el))
        out.push((el.id ? el.tagName + '#' + el.id : el.tagName + '.' + el.className) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return out;
})()`;
