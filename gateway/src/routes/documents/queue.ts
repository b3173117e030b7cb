import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConflictError, ForbiddenError, NotFoundError, canManage } from '@rattgllm/core';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { Document } from '../../schemas/documents.js';
import {
  toPublicDocument,
  type QueuedDocumentRow,
  type Throughput,
} from '../../plugins/app/repositories/documents.js';

const QueueItem = Type.Object({
  document: Document,
  position: Type.Integer({ description: 'place in the whole queue: running documents first, then 1, 2, …' }),
  etaSeconds: Type.Union([Type.Number(), Type.Null()], {
    description:
      'seconds until it is indexed, from the measured throughput; null while nothing is measured yet ' +
      'or while it waits for a retry (see nextAttemptAt)',
  }),
});

const QueueResponse = Type.Object(
  {
    items: Type.Array(QueueItem),
    total: Type.Integer({ description: 'documents in the queue, yours or not' }),
    running: Type.Integer({ description: 'documents being indexed now' }),
    throughput: Type.Union([
      Type.Object({
        bytesPerSecond: Type.Number(),
        documents: Type.Integer({ description: 'recent runs it is measured from' }),
      }),
      Type.Null(),
    ]),
  },
  {
    description: 'The ingestion queue as you may see it',
    examples: [
      {
        items: [],
        total: 3,
        running: 1,
        throughput: { bytesPerSecond: 52_000, documents: 50 },
      },
    ],
  },
);

/**
 * How long until this document is indexed: a running one needs its remaining bytes at one slot's
 * rate; a pending one waits for everything running and pending ahead of it, worked off by as many
 * slots as are running now (at least one).
 */
export function etaSeconds(row: QueuedDocumentRow, rate: Throughput | null): number | null {
  if (!rate || row.status === 'waiting') return null;
  if (row.status === 'processing') return (row.size * (1 - row.progress)) / rate.bytesPerSecond;
  const slots = Math.max(1, row.running_count);
  return (row.running_bytes + row.lane_bytes) / (rate.bytesPerSecond * slots);
}

/** `GET /documents/queue` and `POST /documents/:id/cancel`. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { documents, audit } = fastify.repos;
  const security = [{ bearer: [] }];

  fastify.get(
    '/documents/queue',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'The ingestion queue: your queued documents (admins: all) with position and ETA',
        security,
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) },
          { additionalProperties: false },
        ),
        response: { 200: QueueResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const [rows, rate] = await Promise.all([
        documents.queue(request.auth!, request.query.limit),
        documents.throughput(),
      ]);
      const any = rows[0];
      // The totals are the same on every row; with no row of yours they come from a count.
      const totals = any
        ? { total: any.queue_total, running: any.running_count }
        : await documents.queueCounts();
      return {
        items: rows.map((r) => ({
          document: toPublicDocument(r),
          position: r.position,
          etaSeconds: etaSeconds(r, rate),
        })),
        ...totals,
        throughput: rate,
      };
    },
  );

  fastify.post(
    '/documents/:id/cancel',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary:
          'Stop indexing a pending, waiting or running document (owner or admin); it stays, `cancelled`, until re-indexed',
        security,
        params: IdParams,
        response: {
          200: { ...Document, description: 'The document, now cancelled' },
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const me = request.auth!;
      const row = await documents.findReadable(me, request.params.id);
      if (!row) throw new NotFoundError('No such document', 'DOCUMENT_NOT_FOUND');
      if (!canManage(me, { ownerId: row.owner_id }))
        throw new ForbiddenError('Only the owner or an admin may cancel indexing', 'NOT_OWNER');
      const boss = await fastify.queue();
      const cancelled = await documents.cancel(boss, row.id, me.username);
      if (!cancelled)
        throw new ConflictError(
          `“${row.filename}” is ${row.status}, not queued: there is nothing to cancel`,
          'NOT_QUEUED',
        );
      await audit.record({
        actor: me,
        action: 'document.cancelled',
        targetType: 'document',
        targetId: row.id,
        ip: request.ip,
        details: { filename: row.filename, was: row.status },
      });
      return toPublicDocument(cancelled);
    },
  );
};

export default routes;
