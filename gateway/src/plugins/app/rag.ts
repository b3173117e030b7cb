import fp from 'fastify-plugin';
import {
  byFusedScore,
  createEmbedder,
  createVectorIndex,
  encodeQuery,
  type Embedder,
  type Principal,
  type SearchMode,
  type VectorIndex,
} from '@rattgllm/core';
import { createLlmClient, type LlmClient } from '../../lib/llm.js';
import { createModelContext, type ModelContext } from '../../lib/model-context.js';
import type { Passage } from '../../retrieval/context.js';
import { ragRepository, type RagRepository } from './repositories/openwebui.js';

/**
 * Who retrieval reads for. `principal` drives the Postgres re-check (`whereReadable`),
 * `principals` the Qdrant filter; both describe the same person. Empty `principals` = nothing.
 */
export interface RetrievalIdentity {
  principal: Principal;
  principals: string[];
  /** For logs: `user:<name>`, `openwebui:<email>`, `openwebui:unknown`. */
  label: string;
}

export interface RetrieveInput {
  identity: RetrievalIdentity;
  query: string;
  limit: number;
  documentIds?: string[];
  tags?: string[];
  /** Floor on the dense (cosine) score; hits without one are dropped when set above 0. */
  minScore?: number;
  /** `dense` / `sparse`: one list alone, for evaluation (npm run eval). Default hybrid. */
  mode?: SearchMode;
  /**
   * `document`: `limit` documents, each its best passage with its other matching passages in
   * `also` (what /search shows). `passage` (default): `limit` passages (chat context).
   */
  group?: 'document' | 'passage';
  signal?: AbortSignal;
}

/** Passages BM25 ranks this high pass the score floor whatever their cosine (see retrieve). */
export const SPARSE_FLOOR_RANK = 3;

export interface RetrieveResult {
  passages: Passage[];
  /** Time spent embedding the query, searching Qdrant, and re-checking in Postgres (ms). */
  timings: { embedMs: number; searchMs: number; checkMs: number };
  /** Hits Qdrant returned that Postgres refused (stale payload, deleted, access changed). */
  dropped: number;
}

export interface Rag {
  embedder: Embedder;
  vectorIndex: VectorIndex;
  llm: LlmClient;
  /** The chat models' real context lengths (Ollama /api/show, cached). */
  models: ModelContext;
  repo: RagRepository;
  retrieve(input: RetrieveInput): Promise<RetrieveResult>;
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
 * Retrieval and the chat upstream: the embedder, the vector index and the LLM client as
 * decorators, and `retrieve`, the one path every search, chat context and citation takes.
 */
export default fp(
  async (fastify) => {
    const config = fastify.config;
    const embedder = createEmbedder(config);
    const vectorIndex = createVectorIndex(config);
    const llm = createLlmClient({ baseUrl: config.LLM_BASE_URL, timeoutMs: config.EMBED_TIMEOUT * 1000 });
    const repo = ragRepository(fastify.db);
    const models = createModelContext({
      ollamaUrl: config.OLLAMA_URL,
      defaultLength: config.OLLAMA_CONTEXT_LENGTH,
      onError: (model, err) =>
        fastify.log.warn(
          { model, err },
          'could not read the model context length from Ollama; using OLLAMA_CONTEXT_LENGTH',
        ),
    });

    async function retrieve(input: RetrieveInput): Promise<RetrieveResult> {
      const timings = { embedMs: 0, searchMs: 0, checkMs: 0 };
      const { identity } = input;
      if (identity.principals.length === 0 || input.limit < 1) return { passages: [], timings, dropped: 0 };
      let t = performance.now();
      const dense = await embedder.embedQuery(input.query, input.signal ? { signal: input.signal } : {});
      timings.embedMs = performance.now() - t;
      input.signal?.throwIfAborted();

      t = performance.now();
      // Over-fetch: the re-check and the score floor may drop some hits, and grouping by document
      // needs several passages per document.
      const byDocument = input.group === 'document';
      const hits = await vectorIndex.hybridSearch({
        dense,
        sparse: encodeQuery(input.query),
        principals: identity.principals,
        limit: byDocument ? Math.min(input.limit * 4, 400) : Math.min(input.limit * 2, 100),
        ...(input.documentIds ? { documentIds: input.documentIds } : {}),
        ...(input.tags?.length ? { tags: input.tags } : {}),
        ...(input.mode ? { mode: input.mode } : {}),
        ...(byDocument ? { byDocument } : {}),
      });
      timings.searchMs = performance.now() - t;
      input.signal?.throwIfAborted();
      // RRF gives equal scores often (first in one list, second in the other). Ties go to the
      // passage closer in meaning, then to a key that survives re-ingestion (file name, chunk
      // index; a document id is random), so the same question always gets the same passages.
      hits.sort(byFusedScore);

      // Defence in depth: the Qdrant payload may be stale (access changed, document deleted,
      // setPrincipals not yet run). Postgres decides; a hit it does not confirm is never used.
      t = performance.now();
      const ids = [...new Set(hits.map((h) => h.payload.document_id))];
      const rows = await repo.readable(identity.principal, ids, input.tags);
      timings.checkMs = performance.now() - t;
      const readable = new Map(rows.map((r) => [r.id, r]));
      const floor = input.minScore ?? 0;
      const passages: Passage[] = [];
      const byDoc = new Map<string, Passage>();
      let dropped = 0;
      for (const h of hits) {
        const doc = readable.get(h.payload.document_id);
        if (!doc) {
          dropped++;
          continue;
        }
        // The floor is on meaning (cosine), but a passage BM25 ranks among its first few passes
        // too: an exact name or code that the vectors miss is what hybrid search is for.
        const strongSparse = h.sparseRank !== undefined && h.sparseRank < SPARSE_FLOOR_RANK;
        if (floor > 0 && !strongSparse && (h.denseScore === undefined || h.denseScore < floor)) continue;
        const passage: Passage = {
          documentId: doc.id,
          filename: doc.filename,
          chunkIndex: h.payload.chunk_index,
          text: h.payload.text,
          score: h.score,
          denseScore: h.denseScore ?? null,
          page: h.payload.page ?? null,
          pageEnd: h.payload.page_end ?? null,
          heading: h.payload.heading ?? null,
        };
        if (byDocument) {
          const best = byDoc.get(doc.id);
          if (best) {
            (best.also ??= []).push(passage);
            continue;
          }
          if (passages.length >= input.limit) continue;
          byDoc.set(doc.id, passage);
        } else if (passages.length >= input.limit) break;
        passages.push(passage);
      }
      if (dropped > 0)
        fastify.log.warn(
          { identity: identity.label, dropped },
          'vector hits refused by the Postgres access check (stale index payload?)',
        );
      return { passages, timings, dropped };
    }

    fastify.decorate('rag', { embedder, vectorIndex, llm, models, repo, retrieve } satisfies Rag);
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
  { name: 'rag', dependencies: ['config', 'db'] },
);
