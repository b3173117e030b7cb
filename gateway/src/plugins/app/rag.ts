import fp from 'fastify-plugin';
import { createEmbedder, createVectorIndex, type Embedder, type VectorIndex } from '@rattgllm/core';
import { createLlmClient, type LlmClient } from '../../lib/llm.js';
import { createModelContext, type ModelContext } from '../../lib/model-context.js';
import { createRetrieve, type Retrieve } from '../../retrieval/retrieve.js';

export interface Rag {
  embedder: Embedder;
  vectorIndex: VectorIndex;
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
    const documents = fastify.repos.documents;
    const retrieve = createRetrieve({
      embedder,
      vectorIndex,
      readableAmong: (principal, ids, tags) => documents.readableAmong(principal, ids, tags),
      log: fastify.log,
    });

    fastify.decorate('rag', { embedder, vectorIndex, llm, models, retrieve } satisfies Rag);
    fastify.decorate('chatStats', { listeners: 0, activeStreams: 0 } satisfies ChatStats);
    // The ingestor creates the collection; checking it here only reports a wrong shape early
    // (e.g. EMBED_DIM changed). Not awaited: search answers 503 until Qdrant is back.
    fastify.addHook('onReady', async () => {
      vectorIndex.ensureCollection().catch((err: unknown) => {
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
