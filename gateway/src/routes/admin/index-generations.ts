import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ConflictError,
  NotFoundError,
  dropGeneration,
  generationProgress,
  listGenerations,
  ndcgAt,
  recallAt,
  switchGeneration,
  type Generation,
} from '@rattgllm/core';
import { errorResponses, SafeText } from '../../schemas/common.js';
import { COMPARE_EXAMPLE, STATUS_EXAMPLE } from './index-generations.examples.js';

const CollectionName = Type.String({
  pattern: '^[A-Za-z0-9_.-]{1,255}$',
  description: 'a Qdrant collection name (letters, digits, dot, dash, underscore)',
});

const GenerationOut = Type.Object({
  collection: Type.String(),
  model: Type.String(),
  dim: Type.Integer(),
  state: Type.Union([
    Type.Literal('building'),
    Type.Literal('ready'),
    Type.Literal('active'),
    Type.Literal('retired'),
  ]),
  serving: Type.Boolean({ description: 'the production name resolves to it now' }),
  done: Type.Integer({ description: 'indexed documents it holds at their current version' }),
  total: Type.Integer({ description: 'indexed documents' }),
  createdAt: Type.Union([Type.String(), Type.Null()]),
  completedAt: Type.Union([Type.String(), Type.Null()]),
  switchedAt: Type.Union([Type.String(), Type.Null()]),
});

const Status = Type.Object(
  {
    name: Type.String({ description: 'the production name (QDRANT_COLLECTION)' }),
    mode: Type.Union([Type.Literal('alias'), Type.Literal('collection')], {
      description: '"alias" once a second generation exists; "collection" before (a plain collection)',
    }),
    autoSwitch: Type.Boolean(),
    active: Type.String({ description: 'the collection search uses now' }),
    generations: Type.Array(GenerationOut),
  },
  { examples: [STATUS_EXAMPLE] },
);

const CompareBody = Type.Object(
  {
    queries: Type.Array(
      Type.Object(
        {
          query: SafeText({ minLength: 1, maxLength: 2000 }),
          relevant: Type.Optional(
            Type.Array(SafeText({ minLength: 1, maxLength: 1024 }), {
              maxItems: 100,
              description: 'file names (or document ids) that answer the query',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 200 },
    ),
    collection: Type.Optional(CollectionName),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  },
  { additionalProperties: false },
);

const Side = Type.Object({
  collection: Type.String(),
  model: Type.String(),
  ndcg10: Type.Union([Type.Number(), Type.Null()], { description: 'mean over queries with `relevant`' }),
  recall10: Type.Union([Type.Number(), Type.Null()]),
});

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

/**
 * Index generations (admins): status of a re-embedding after EMBED_MODEL / EMBED_DIM changed,
 * the atomic switch of the production alias, dropping an old collection, and a side-by-side
 * comparison of two generations on a set of queries.
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addHook('onRequest', fastify.authenticate);
  fastify.addHook('preHandler', fastify.requireRole('admin'));
  const { config, db } = fastify;
  const { audit } = fastify.repos;
  const gens = fastify.rag.generations;
  const name = config.QDRANT_COLLECTION;
  const security = [{ bearer: [] }];
  const tags = ['admin'];

  async function status() {
    const [state, rows, active] = await Promise.all([
      gens.ops.resolve(name),
      listGenerations(db, name),
      gens.active(),
    ]);
    const all: Generation[] = rows.some((r) => r.collection === active.generation.collection)
      ? rows
      : [active.generation, ...rows];
    const generations = await Promise.all(
      all.map(async (g) => ({
        collection: g.collection,
        model: g.model,
        dim: g.dim,
        state: g.state,
        serving: g.collection === active.generation.collection,
        ...(await generationProgress(db, g.collection)),
        createdAt: iso(g.createdAt),
        completedAt: iso(g.completedAt),
        switchedAt: iso(g.switchedAt),
      })),
    );
    // The serving generation holds what the ingest jobs indexed into it (no progress rows).
    for (const g of generations) if (g.serving) g.done = g.total;
    return {
      name,
      mode: state.kind === 'alias' ? ('alias' as const) : ('collection' as const),
      autoSwitch: config.INDEX_AUTO_SWITCH,
      active: active.generation.collection,
      generations,
    };
  }

  fastify.get(
    '/admin/index',
    {
      schema: {
        tags,
        summary: 'Index generations: which collection search uses, and re-embedding progress',
        security,
        response: { 200: Status, ...errorResponses(401, 403, 503) },
      },
    },
    () => status(),
  );

  fastify.post(
    '/admin/index/switch',
    {
      schema: {
        tags,
        summary: 'Switch search to a ready generation (one atomic alias update)',
        security,
        body: Type.Object({ collection: CollectionName }, { additionalProperties: false }),
        response: { 200: Status, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { collection } = request.body;
      await switchGeneration(db, gens.ops, name, collection);
      gens.invalidate();
      await audit.record({
        actor: request.auth,
        action: 'index.switch',
        targetType: 'collection',
        targetId: collection,
        ip: request.ip,
      });
      return status();
    },
  );

  fastify.delete(
    '/admin/index/generations/:collection',
    {
      schema: {
        tags,
        summary: 'Drop a generation that no longer serves (its Qdrant collection is deleted)',
        security,
        params: Type.Object({ collection: CollectionName }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      await dropGeneration(db, gens.ops, name, collection);
      await audit.record({
        actor: request.auth,
        action: 'index.drop',
        targetType: 'collection',
        targetId: collection,
        ip: request.ip,
      });
      return reply.code(204).send(null);
    },
  );

  fastify.post(
    '/admin/index/compare',
    {
      schema: {
        tags,
        summary: 'Run queries against the serving generation and another one, side by side',
        security,
        body: CompareBody,
        response: {
          200: Type.Object(
            {
              queries: Type.Integer(),
              baseline: Side,
              candidate: Side,
              overlap10: Type.Number({ description: 'mean share of top-10 documents both return' }),
            },
            {
              examples: [COMPARE_EXAMPLE],
            },
          ),
          ...errorResponses(400, 401, 403, 404, 409, 503),
        },
      },
    },
    async (request) => {
      const { queries, limit } = request.body;
      const active = (await gens.active()).generation;
      const rows = await listGenerations(db, name);
      const other =
        request.body.collection ??
        rows.find(
          (r) => r.collection !== active.collection && (r.state === 'building' || r.state === 'ready'),
        )?.collection ??
        rows.find((r) => r.collection !== active.collection)?.collection;
      if (!other)
        throw new ConflictError('There is no other index generation to compare with', 'NO_CANDIDATE');
      const candidate = rows.find((r) => r.collection === other);
      if (!candidate) throw new NotFoundError(`No index generation ${other}`, 'GENERATION_NOT_FOUND');
      const identity = await fastify.retrievalIdentity(request);
      const sides = [active, candidate].map((g) => ({
        gen: g,
        ndcg: [] as number[],
        recall: [] as number[],
        top: [] as string[][],
      }));
      for (const q of queries) {
        for (const side of sides) {
          const { passages } = await fastify.rag.retrieve({
            identity,
            query: q.query,
            limit,
            group: 'document',
            collection: side.gen.collection,
          });
          const ranked = passages.map((p) => p.filename);
          const ids = passages.map((p) => p.documentId);
          side.top.push(ranked.slice(0, 10));
          if (q.relevant?.length) {
            const relevant = new Set(q.relevant);
            // A relevant entry may name a file or a document id; rank by whichever it uses.
            const list = q.relevant.some((r) => ids.includes(r)) ? ids : ranked;
            side.ndcg.push(ndcgAt(list, relevant, 10));
            side.recall.push(recallAt(list, relevant, 10));
          }
        }
      }
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
      const overlaps = sides[0]!.top.map((a, i) => {
        const b = new Set(sides[1]!.top[i]);
        const size = Math.max(a.length, b.size);
        return size === 0 ? 1 : a.filter((x) => b.has(x)).length / size;
      });
      const out = (s: (typeof sides)[number]) => ({
        collection: s.gen.collection,
        model: s.gen.model,
        ndcg10: mean(s.ndcg),
        recall10: mean(s.recall),
      });
      return {
        queries: queries.length,
        baseline: out(sides[0]!),
        candidate: out(sides[1]!),
        overlap10: mean(overlaps) ?? 1,
      };
    },
  );
};

export default routes;
