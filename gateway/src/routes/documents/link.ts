import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '@rattgllm/core';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { DOCUMENT_LINK_SECONDS } from '../../plugins/app/auth.js';

/**
 * `POST /documents/:id/link`: a URL that opens the original in a browser tab without our headers,
 * so the tab gets the gateway's `Content-Disposition: inline; filename=…` (the tab shows the file
 * name, a PDF viewer honours `#page=N`) instead of a blob with a random id. The token opens this
 * one document for this one user; their access is checked again when it is opened.
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/documents/:id/link',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'A link that opens the original file in a browser tab (valid for a day, for you only)',
        security: [{ bearer: [] }],
        params: IdParams,
        response: {
          200: Type.Object(
            {
              url: Type.String({ description: 'relative to the API, e.g. /documents/…/content?token=…' }),
              expiresIn: Type.Integer({ description: 'seconds' }),
            },
            {
              description: 'The link',
              examples: [{ url: '/documents/3f1c…/content?token=eyJ…', expiresIn: 86400 }],
            },
          ),
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => {
      const me = request.auth!;
      const row = await fastify.repos.documents.findReadable(me, request.params.id);
      if (!row) throw new NotFoundError('No such document', 'DOCUMENT_NOT_FOUND');
      const token = fastify.signDocumentLink(me.id, row.id);
      return {
        url: `/documents/${row.id}/content?token=${encodeURIComponent(token)}`,
        expiresIn: DOCUMENT_LINK_SECONDS,
      };
    },
  );
};

export default routes;
