import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BadRequestError } from '@rattgllm/core';
import { errorResponses } from '../../schemas/common.js';

export const MAX_QUERY_CHARS = 2000;

const SearchBody = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: MAX_QUERY_CHARS }),
    limit: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
    documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 200 })),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 50 }),
    ),
  },
  { additionalProperties: false },
);

const SearchResult = Type.Object({
  documentId: Type.String(),
  filename: Type.String(),
  chunkIndex: Type.Integer(),
  text: Type.String(),
  score: Type.Number({ description: 'Fused (RRF) rank score; higher is better' }),
  denseScore: Type.Union([Type.Number(), Type.Null()], { description: 'Cosine similarity, when known' }),
  page: Type.Union([Type.Integer(), Type.Null()], { description: 'first page (or slide) of the passage' }),
  pageEnd: Type.Union([Type.Integer(), Type.Null()], {
    description: 'last page, when the passage spans more than one ("pages 1–2")',
  }),
  heading: Type.Union([Type.String(), Type.Null()]),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/search',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['search'],
        summary: 'Hybrid (dense + BM25) search over the passages of the documents you may read',
        security: [{ bearer: [] }],
        body: SearchBody,
        response: {
          200: Type.Object({ results: Type.Array(SearchResult), tookMs: Type.Number() }),
          ...errorResponses(400, 401, 503),
        },
      },
    },
    async (request) => {
      const started = performance.now();
      const { query, limit, documentIds, tags } = request.body;
      const text = query.trim();
      if (!text) throw new BadRequestError('query must contain more than whitespace', 'EMPTY_QUERY');
      const identity = await fastify.retrievalIdentity(request);
      const { passages } = await fastify.rag.retrieve({
        identity,
        query: text,
        limit,
        ...(documentIds ? { documentIds } : {}),
        ...(tags ? { tags } : {}),
      });
      return {
        results: passages.map((p) => ({
          documentId: p.documentId,
          filename: p.filename,
          chunkIndex: p.chunkIndex,
          text: p.text,
          score: p.score,
          denseScore: p.denseScore,
          page: p.page,
          pageEnd: p.pageEnd ?? null,
          heading: p.heading,
        })),
        tookMs: Math.round((performance.now() - started) * 10) / 10,
      };
    },
  );
};

export default routes;
