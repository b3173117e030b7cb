import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '@rattgllm/core';
import { errorResponses } from '../../schemas/common.js';
import { demoPage } from './demo-page.js';

/** What `widget/build.mjs` writes next to the bundle. */
interface Manifest {
  file: string;
  hash: string;
  version: string;
}

const HASHED = /^rattg-widget\.[a-f0-9]{8,64}\.js$/;
const JS = 'text/javascript; charset=utf-8';
// An api-base is a path prefix ("/api", "" or "/x/y"): nothing that could leave an attribute.
const API_BASE = /^(\/[A-Za-z0-9._~-]+)*$/;

/**
 * The built widget (`WIDGET_DIR`, written by `npm run build -w widget`) and the demo page at `/`.
 * `/widget/rattg-widget.<hash>.js` never changes, so it is cached for a year; the plain name is
 * revalidated, so an embed that uses it picks up a new build within minutes.
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const chatSite = fastify.config.CHAT_SITE_URL;
  const dir = resolve(fastify.config.WIDGET_DIR);

  async function manifest(): Promise<Manifest | null> {
    try {
      const m = JSON.parse(await readFile(resolve(dir, 'manifest.json'), 'utf8')) as Manifest;
      return HASHED.test(m.file) ? m : null;
    } catch {
      return null;
    }
  }

  function notBuilt(): never {
    throw new NotFoundError(
      'The widget is not built: run `npm run build -w widget` (or set WIDGET_DIR)',
      'WIDGET_NOT_BUILT',
    );
  }

  const hide = { hide: true, tags: ['widget'] };

  fastify.get(
    '/widget/rattg-widget.js',
    { schema: { ...hide, summary: 'The widget bundle (revalidated)', response: errorResponses(404) } },
    async (request, reply) => {
      const m = await manifest();
      const code = await readFile(resolve(dir, 'rattg-widget.js')).catch(() => notBuilt());
      const etag = m ? `"${m.hash}"` : undefined;
      reply
        .header('content-type', JS)
        .header('cache-control', 'public, max-age=300, must-revalidate')
        .header('x-content-type-options', 'nosniff');
      if (etag) {
        reply.header('etag', etag);
        if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      }
      return reply.send(code);
    },
  );

  fastify.get(
    '/widget/:file',
    {
      schema: {
        ...hide,
        summary: 'The widget bundle under its content hash (immutable)',
        params: Type.Object({ file: Type.String({ maxLength: 100 }) }),
        response: errorResponses(404),
      },
    },
    async (request, reply) => {
      const { file } = request.params;
      // Only the bundle's own names: no other file of the folder, no path tricks.
      if (!HASHED.test(file)) throw new NotFoundError('No such widget file', 'NOT_FOUND');
      const code = await readFile(resolve(dir, file)).catch(() => {
        throw new NotFoundError('No such widget file (an older build?)', 'NOT_FOUND');
      });
      return reply
        .header('content-type', JS)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .send(code);
    },
  );

  fastify.get(
    '/',
    {
      schema: {
        ...hide,
        summary: 'Demo: a sample intranet page that embeds the widget',
        querystring: Type.Object({ 'api-base': Type.Optional(Type.String({ maxLength: 100 })) }),
      },
    },
    async (request, reply) => {
      const requested = request.query['api-base'];
      const apiBase = requested !== undefined && API_BASE.test(requested) ? requested : '/api';
      const m = await manifest();
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header(
          'content-security-policy',
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
            "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; " +
            // The widget posts its chat hand-off to the chat site.
            `form-action 'self'${chatSite ? ` ${chatSite}` : ''}`,
        )
        .send(
          demoPage({
            scriptSrc: m ? `/widget/${m.file}` : '/widget/rattg-widget.js',
            apiBase,
            chatUrl: chatSite ?? '/openwebui',
            version: m?.version ?? null,
          }),
        );
    },
  );
};

export default routes;
