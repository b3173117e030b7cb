import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BadRequestError,
  canManage,
  ForbiddenError,
  JOBS,
  NotFoundError,
  isAdmin,
  sendInTransaction,
} from '@rattgllm/core';
import { errorResponses } from '../../schemas/common.js';

/** `POST /ingest/reindex`: one document (its owner or an admin) or everything (admins). */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { documents, audit } = fastify.repos;

  fastify.post(
    '/ingest/reindex',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'Re-index one document or (admins) reconcile everything; jobs start at once',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            documentId: Type.Optional(Type.String({ format: 'uuid' })),
            all: Type.Optional(Type.Boolean()),
            force: Type.Optional(Type.Boolean({ description: 're-embed even when nothing changed' })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ queued: Type.Integer() }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      const { documentId, all, force } = request.body;
      if (Boolean(documentId) === Boolean(all))
        throw new BadRequestError('Send either {"documentId": "…"} or {"all": true}', 'BAD_REINDEX_REQUEST');
      const boss = await fastify.queue();
      let queued: string | null;
      if (all) {
        if (!isAdmin(me)) throw new ForbiddenError('Only admins may re-index everything', 'FORBIDDEN');
        queued = await sendInTransaction(boss, fastify.db, JOBS.reconcile, { force: Boolean(force) });
      } else {
        const row = await documents.findReadable(me, documentId!);
        if (!row) throw new NotFoundError('No such document', 'DOCUMENT_NOT_FOUND');
        if (!canManage(me, { ownerId: row.owner_id }))
          throw new ForbiddenError('You may re-index only documents you own', 'NOT_OWNER');
        ({ jobId: queued } = await documents.queueIngest(boss, row.id, Boolean(force)));
      }
      await audit.record({
        actor: me,
        action: 'document.reindex',
        targetType: all ? 'all' : 'document',
        ...(documentId ? { targetId: documentId } : {}),
        ip: request.ip,
        details: { force: Boolean(force), queued: queued ? 1 : 0 },
      });
      // A job for the same target already waiting absorbs this one (singleton per document).
      return reply.code(202).send({ queued: queued ? 1 : 0 });
    },
  );
};

export default routes;
