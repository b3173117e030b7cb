import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startGateway } from '../../test/support/gateway.js';

const HASH = 'abcdef123456';
const CODE = 'export const built = true;\n';

describe('widget bundle and demo page', () => {
  let app: FastifyInstance;
  let empty: FastifyInstance;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rattg-widget-'));
    await writeFile(join(dir, 'rattg-widget.js'), CODE);
    await writeFile(join(dir, `rattg-widget.${HASH}.js`), CODE);
    await writeFile(join(dir, 'secret.txt'), 'not for the web');
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ file: `rattg-widget.${HASH}.js`, hash: HASH, version: '9.9.9' }),
    );
    app = await startGateway({ WIDGET_DIR: dir });
    empty = await startGateway({ WIDGET_DIR: join(dir, 'missing') });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves the hashed bundle with a year-long immutable cache', async () => {
    const res = await app.inject({ url: `/widget/rattg-widget.${HASH}.js` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.body).toBe(CODE);
  });

  it('serves the plain name with revalidation and an ETag from the content hash', async () => {
    const res = await app.inject({ url: '/widget/rattg-widget.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('must-revalidate');
    expect(res.headers.etag).toBe(`"${HASH}"`);
    const again = await app.inject({
      url: '/widget/rattg-widget.js',
      headers: { 'if-none-match': `"${HASH}"` },
    });
    expect(again.statusCode).toBe(304);
  });

  it('serves nothing else from the folder, and no path tricks', async () => {
    for (const url of [
      '/widget/secret.txt',
      '/widget/manifest.json',
      '/widget/rattg-widget.000000000000.js',
      '/widget/..%2Fsecret.txt',
      '/widget/rattg-widget.abcdef12..js',
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('not for the web');
    }
  });

  it('says clearly when the widget is not built', async () => {
    const res = await empty.inject({ url: '/widget/rattg-widget.js' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'WIDGET_NOT_BUILT' });
    expect(res.json().message).toContain('npm run build -w widget');
    const page = await empty.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('src="/widget/rattg-widget.js"');
  });

  it('the demo page embeds the hashed bundle, shows the snippet and links the chat', async () => {
    // As Caddy forwards it (it adds X-Forwarded-For): the API is under /api.
    const res = await app.inject({ url: '/', headers: { 'x-forwarded-for': '192.0.2.1' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.body).toContain(`<script type="module" src="/widget/rattg-widget.${HASH}.js"></script>`);
    expect(res.body).toContain('<rattg-widget api-base="/api" chat-url="/openwebui"></rattg-widget>');
    // The snippet is shown as text.
    expect(res.body).toContain(
      '&lt;script type=&quot;module&quot; src=&quot;/widget/rattg-widget.js&quot;&gt;&lt;/script&gt;',
    );
    expect(res.body).toContain('href="/openwebui"');
    expect(res.body).toContain('widget 9.9.9');
  });

  it('takes an api-base path from the query, and nothing that is not a path', async () => {
    const direct = await app.inject({ url: '/?api-base=' });
    expect(direct.body).toContain('<rattg-widget api-base="" ');
    const nested = await app.inject({ url: '/?api-base=/rag/api' });
    expect(nested.body).toContain('api-base="/rag/api"');
    // Reached directly (npm run dev): the gateway is the API, no prefix.
    const dev = await app.inject({ url: '/' });
    expect(dev.body).toContain('<rattg-widget api-base="" ');
    const evil = await app.inject({
      url: `/?api-base=${encodeURIComponent('"><script>alert(1)</script>')}`,
      headers: { 'x-forwarded-for': '192.0.2.1' },
    });
    expect(evil.statusCode).toBe(200);
    expect(evil.body).toContain('api-base="/api"');
    expect(evil.body).not.toContain('<script>alert(1)');
  });

  it('is not listed in the API documentation', async () => {
    const res = await app.inject({ url: '/docs/json' });
    expect(Object.keys(res.json().paths)).not.toContain('/widget/rattg-widget.js');
  });
});
