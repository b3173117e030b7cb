import fp from 'fastify-plugin';
import {
  NotFoundError,
  createEmbedder,
  createServing,
  createVectorIndex,
  type Embedder,
  type Serving,
  type VectorIndex,
} from '@rattgllm/core';
import { createLlmClient, type LlmClient } from '../../lib/llm.js';
import { createModelContext, type ModelContext } from '../../lib/model-context.js';
import { createRetrieve, type Retrieve } from '../../retrieval/retrieve.js';

export interface Rag {
  /** The configured model's embedder (/v1/embeddings, the readiness check). */
  embedder: Embedder;
  /** The configured collection name's index (through the alias once there is one). */
  vectorIndex: VectorIndex;
  /** The index generations: search follows the alias, embedding queries with each one's model. */
  generations: Serving;
  llm: LlmClient;
  /** The chat models' real context lengths (Ollama /api/show, cached). */
  models: ModelContext;
  /** See retrieval/retrieve.ts. */
  retrieve: Retrieve;
}

export interface ChatStats {
  /** Client-close listeners currently attached by /v1 chat requests (0 when idle). */
  listeners: number;
  /** Upstream streams being forwarded right now. */
  activeStreams: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    rag: Rag;
    chatStats: ChatStats;
  }
}

/**
 * Wires retrieval and the chat upstream: the embedder, the vector index and the LLM client as
 * decorators, and `retrieve` (gateway/src/retrieval/retrieve.ts) over them.
 */
export default fp(
  async (fastify) => {
    const config = fastify.config;
    const embedder = createEmbedder(config);
    const vectorIndex = createVectorIndex(config);
    const llm = createLlmClient({
      baseUrl: config.LLM_BASE_URL,
      timeoutMs: config.LLM_TIMEOUT * 1000,
      ...(config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}),
    });
    const models = createModelContext({
      ollamaUrl: config.OLLAMA_URL,
      defaultLength: config.OLLAMA_CONTEXT_LENGTH,
      onError: (model, err) =>
        fastify.log.warn(
          { model, err },
          'could not read the model context length from Ollama; using OLLAMA_CONTEXT_LENGTH',
        ),
    });
    const generations = createServing({ db: fastify.db, config, embedder, index: vectorIndex });
    const documents = fastify.repos.documents;
    const retrieve = createRetrieve({
      // The active generation (through the alias, retried once if it was switched away under
      // the search), or the one an admin comparison names.
      withGeneration: async (collection, fn) => {
        if (!collection)
          return generations.withActive((gen) => fn({ embedder: gen.embedder, vectorIndex: gen.index }));
        const gen = await generations.get(collection);
        if (!gen) throw new NotFoundError(`No index generation ${collection}`, 'GENERATION_NOT_FOUND');
        return fn({ embedder: gen.embedder, vectorIndex: gen.index });
      },
      readableAmong: (principal, ids, tags) => documents.readableAmong(principal, ids, tags),
      readableCached: (principal, ids, tags) => documents.readableCached(principal, ids, tags),
      windowTokens: config.PASSAGE_WINDOW_TOKENS,
      windowCache: fastify.caches.windows,
      documentNextWeight: config.DOCUMENT_SCORE_NEXT_WEIGHT,
      log: fastify.log,
    });

    fastify.decorate('rag', { embedder, vectorIndex, generations, llm, models, retrieve } satisfies Rag);
    fastify.decorate('chatStats', { listeners: 0, activeStreams: 0 } satisfies ChatStats);
    // The ingestor creates the collection; checking it here only reports a wrong shape early
    // (e.g. EMBED_DIM changed). Not awaited: search answers 503 until Qdrant is back.
    fastify.addHook('onReady', async () => {
      // The collection search uses now: with a model change under way, the old model's one.
      generations
        .active()
        .then((gen) => gen.index.ensureCollection())
        .catch((err: unknown) => {
          fastify.log.error(
            { err },
            'vector index check failed at start; search and chat context fail until it is fixed',
          );
        });
    });
    fastify.addHook('onClose', async () => {
      await llm.close();
    });
  },
  { name: 'rag', dependencies: ['config', 'db', 'repositories'] },
);
