import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  canManage,
  canRead,
  documentPrincipals,
  type Access,
} from '@rattgllm/core';
import { errorResponses, IdParams, MAX_OFFSET, SafeText } from '../../schemas/common.js';
import { Document } from '../../schemas/documents.js';
import { contentDisposition, parseRange } from '../../lib/http.js';
import {
  SORTABLE,
  toPublicDocument,
  type DocumentRow,
  type SortKey,
} from '../../plugins/app/repositories/documents.js';
import { SSE_SCOPE, SSE_TOKEN_SECONDS, type AuthUser } from '../../plugins/app/auth.js';
import type { DocumentEvent } from '../../plugins/app/events.js';
import { parseAccessField, parseTags } from './access.js';

const SortParam = Type.Union(
  Object.keys(SORTABLE).map((k) => Type.Literal(k)),
  { description: 'column to sort by (default createdAt, newest first; others ascending unless `order`)' },
);

const StatusFilter = Type.Union(
  ['pending', 'processing', 'waiting', 'indexed', 'failed', 'cancelled'].map((s) => Type.Literal(s)),
);

// Opened inline in the browser (a PDF viewer can jump to #page=N); everything else downloads.
const INLINE = new Set([
  'application/pdf',
  'text/plain; charset=utf-8',
  'text/csv; charset=utf-8',
  'application/json; charset=utf-8',
  'text/markdown; charset=utf-8',
]);

const SSE_HEARTBEAT_MS = 15_000;

function notFound(): never {
  throw new NotFoundError('No such document', 'DOCUMENT_NOT_FOUND');
}

function mustOwn(me: AuthUser, row: DocumentRow): void {
  if (!canManage(me, { ownerId: row.owner_id }))
    throw new ForbiddenError('Only the owner or an admin may change this document', 'NOT_OWNER');
}

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { documents, audit } = fastify.repos;
  const security = [{ bearer: [] }];

  fastify.get(
    '/documents',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'Documents you may read (admins: all), newest first unless `sort` says otherwise',
        security,
        querystring: Type.Object(
          {
            status: Type.Optional(StatusFilter),
            access: Type.Optional(SafeText({ maxLength: 80 })),
            tag: Type.Optional(SafeText({ maxLength: 64 })),
            q: Type.Optional(SafeText({ maxLength: 200, description: 'text in the file name' })),
            sort: Type.Optional(SortParam),
            order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            documents: Type.Array(Document),
            total: Type.Integer(),
            limit: Type.Integer(),
            offset: Type.Integer(),
          }),
          ...errorResponses(400, 401),
        },
      },
    },
    async (request) => {
      const { rows, total } = await documents.list(request.auth!, {
        ...request.query,
        status: request.query.status as DocumentRow['status'] | undefined,
        sort: request.query.sort as SortKey | undefined,
      });
      return {
        documents: rows.map(toPublicDocument),
        total,
        limit: request.query.limit,
        offset: request.query.offset,
      };
    },
  );

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
        response: { ...errorResponses(401, 503) },
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

  fastify.get(
    '/documents/:id',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'One document',
        security,
        params: IdParams,
        response: { 200: Document, ...errorResponses(401, 404) },
      },
    },
    async (request) =>
      toPublicDocument((await documents.findReadable(request.auth!, request.params.id)) ?? notFound()),
  );

  fastify.get(
    '/documents/:id/content',
    {
      onRequest: fastify.authenticateDocumentLink,
      schema: {
        tags: ['documents'],
        summary: 'The original file (supports Range; `?download=1` forces a download)',
        security,
        params: IdParams,
        querystring: Type.Object({
          download: Type.Optional(Type.Boolean()),
          token: Type.Optional(
            Type.String({ description: 'a citation link token (instead of a Bearer header)' }),
          ),
        }),
        response: { ...errorResponses(401, 404, 416, 503) },
      },
    },
    async (request, reply) => {
      const row = (await documents.findReadable(request.auth!, request.params.id)) ?? notFound();
      const size = row.size;
      const range = parseRange(request.headers.range, size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        throw new AppError(416, 'RANGE_NOT_SATISFIABLE', `The file has ${size} bytes`);
      }
      const inline = INLINE.has(row.mime) && !request.query.download;
      reply
        .header('content-type', row.mime)
        .header('accept-ranges', 'bytes')
        .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', row.filename))
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-store')
        .header('etag', `"${row.sha256}"`);
      // Uploaded content must never run as our origin's script; Chrome's PDF viewer needs no sandbox.
      if (row.mime !== 'application/pdf')
        reply.header('content-security-policy', "sandbox; default-src 'none'");
      const stream = await fastify.storage.get(row.storage_key, range ?? undefined);
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
        reply.header('content-length', range.end - range.start + 1);
      } else {
        reply.header('content-length', size);
      }
      return reply.send(stream);
    },
  );

  fastify.patch(
    '/documents/:id',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'Change access or tags (owner or admin); the index is updated without re-embedding',
        security,
        params: IdParams,
        body: Type.Object(
          {
            access: Type.Optional(Type.String({ maxLength: 80 })),
            tags: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Document, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const me = request.auth!;
      const row = (await documents.findReadable(me, request.params.id)) ?? notFound();
      mustOwn(me, row);
      const patch: Partial<DocumentRow> = {};
      if (request.body.access !== undefined) patch.access = parseAccessField(request.body.access, me);
      if (request.body.tags !== undefined) patch.tags = parseTags(request.body.tags);
      const boss = await fastify.queue();
      const updated = await documents.changeAccess(boss, row.id, patch);
      await audit.record({
        actor: me,
        action: 'document.updated',
        targetType: 'document',
        targetId: row.id,
        ip: request.ip,
        details: {
          ...patch,
          principals: patch.access ? documentPrincipals(row.owner_id, patch.access as Access) : undefined,
        },
      });
      return toPublicDocument(updated ?? notFound());
    },
  );

  fastify.delete(
    '/documents/:id',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary:
          'Delete (owner or admin): gone from lists and search at once; vectors and file removed by a job',
        security,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      const row = (await documents.findReadable(me, request.params.id)) ?? notFound();
      mustOwn(me, row);
      const boss = await fastify.queue();
      await documents.markDeleted(boss, row.id);
      await audit.record({
        actor: me,
        action: 'document.deleted',
        targetType: 'document',
        targetId: row.id,
        ip: request.ip,
        details: { filename: row.filename },
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
