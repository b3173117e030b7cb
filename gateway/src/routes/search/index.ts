import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BadRequestError } from '@rattgllm/core';
import { errorResponses } from '../../schemas/common.js';
import type { Passage } from '../../retrieval/context.js';

export const MAX_QUERY_CHARS = 2000;
export const MAX_SEARCH_LIMIT = 100;

const SearchBody = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: MAX_QUERY_CHARS }),
    limit: Type.Integer({
      minimum: 1,
      maximum: MAX_SEARCH_LIMIT,
      default: 8,
      description: 'Documents (group "document") or passages (group "passage") to return',
    }),
    group: Type.Union([Type.Literal('document'), Type.Literal('passage')], {
      default: 'document',
      description:
        '"document": one entry per document — its best passage, with its other matching passages in `also`; "passage": every passage on its own',
    }),
    documentIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 200 })),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 50 }),
    ),
  },
  { additionalProperties: false },
);

const passageFields = {
  chunkIndex: Type.Integer(),
  text: Type.String(),
  score: Type.Number({ description: 'Fused (RRF) rank score; higher is better' }),
  denseScore: Type.Union([Type.Number(), Type.Null()], { description: 'Cosine similarity, when known' }),
  page: Type.Union([Type.Integer(), Type.Null()], { description: 'first page (or slide) of the passage' }),
  pageEnd: Type.Union([Type.Integer(), Type.Null()], {
    description: 'last page, when the passage spans more than one ("pages 1–2")',
  }),
  pageBreaks: Type.Union(
    [
      // A pair as a fixed-length array (not a draft-07 tuple), valid in OpenAPI 3.1's JSON Schema too.
      Type.Array(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 2, maxItems: 2 })),
      Type.Null(),
    ],
    {
      description:
        '[character offset in text, page] where each later page begins, for a passage over several pages ' +
        '(null: one page, or indexed before this was recorded)',
    },
  ),
  heading: Type.Union([Type.String(), Type.Null()]),
};

const SearchResult = Type.Object({
  documentId: Type.String(),
  filename: Type.String(),
  ...passageFields,
  also: Type.Optional(
    Type.Array(Type.Object(passageFields), {
      description: 'Other matching passages of this document, best first (group "document")',
    }),
  ),
});

const passageOut = (p: Passage) => ({
  chunkIndex: p.chunkIndex,
  text: p.text,
  score: p.score,
  denseScore: p.denseScore,
  page: p.page,
  pageEnd: p.pageEnd ?? null,
  pageBreaks: p.pageBreaks ?? null,
  heading: p.heading,
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
      const { query, limit, group, documentIds, tags } = request.body;
      const text = query.trim();
      if (!text) throw new BadRequestError('query must contain more than whitespace', 'EMPTY_QUERY');
      const identity = await fastify.retrievalIdentity(request);
      const { passages } = await fastify.rag.retrieve({
        identity,
        query: text,
        limit,
        group,
        ...(documentIds ? { documentIds } : {}),
        ...(tags ? { tags } : {}),
      });
      return {
        results: passages.map((p) => ({
          documentId: p.documentId,
          filename: p.filename,
          ...passageOut(p),
          ...(group === 'document' ? { also: (p.also ?? []).map(passageOut) } : {}),
        })),
        tookMs: Math.round((performance.now() - started) * 10) / 10,
      };
    },
  );
};

export default routes;
