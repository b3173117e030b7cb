import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError, canRead, type Access } from '@rattgllm/core';
import { errorResponses } from '../../schemas/common.js';
import { SSE_SCOPE, SSE_TOKEN_SECONDS } from '../../plugins/app/auth.js';
import type { DocumentEvent } from '../../plugins/app/events.js';

const SSE_HEARTBEAT_MS = 15_000;

/** Live document status for the widget: a short-lived URL token, and the event stream itself. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const security = [{ bearer: [] }];

  fastify.post(
    '/documents/events/token',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'A 60-second token for `GET /documents/events?token=…` (EventSource cannot send headers)',
        security,
        response: {
          200: Type.Object({ token: Type.String(), expires_in: Type.Integer() }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      const me = request.auth!;
      const token = fastify.jwt.sign(
        { sub: me.id, username: me.username, roles: me.roles, scope: SSE_SCOPE },
        { expiresIn: SSE_TOKEN_SECONDS },
      );
      return { token, expires_in: SSE_TOKEN_SECONDS };
    },
  );

  fastify.get(
    '/documents/events',
    {
      onRequest: fastify.authenticateSse,
      schema: {
        tags: ['documents'],
        summary: 'Server-Sent Events: status and progress of the documents you may read',
        description: 'Authenticate with a Bearer header, or `?token=` from `POST /documents/events/token`.',
        security,
        querystring: Type.Object({ token: Type.Optional(Type.String()) }),
        response: {
          200: {
            description:
              'Server-Sent Events: `event: document` with the document as JSON at each change, a comment every 15 s',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses(401, 503),
        },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      try {
        await fastify.listenDocumentEvents();
      } catch {
        throw new AppError(
          503,
          'DATABASE_UNAVAILABLE',
          'Live status is unavailable: the database is unreachable',
        );
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Tell nginx-like proxies not to buffer; Caddy flushes event streams by itself.
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 3000\n: connected\n\n`);
      let seq = 0;
      const onEvent = (event: DocumentEvent) => {
        if (!canRead(me, { ownerId: event.ownerId, access: event.access as Access })) return;
        // Backpressure: a client that cannot keep up gets the next event later, not a growing buffer.
        if (res.writableNeedDrain) return;
        res.write(`id: ${++seq}\nevent: document\ndata: ${JSON.stringify(event)}\n\n`);
      };
      const heartbeat = setInterval(() => res.write(`: ping\n\n`), SSE_HEARTBEAT_MS);
      fastify.documentEvents.on('document', onEvent);
      // Ended with a final `shutdown` event when the gateway closes.
      const untrack = fastify.trackEventStream(res);
      const cleanup = () => {
        clearInterval(heartbeat);
        fastify.documentEvents.off('document', onEvent);
        untrack();
      };
      request.raw.once('close', cleanup);
      res.once('close', cleanup);
    },
  );
};

export default routes;
