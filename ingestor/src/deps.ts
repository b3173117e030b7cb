import type { Config, Embedder, Knex, Logger, PgBoss, Storage, VectorIndex } from '@rattgllm/core';
import type { DoclingClient } from './pipeline/parse/index.js';
import type { EmbedBatcher } from './pipeline/embed-batcher.js';
import type { WriteBatcher } from './pipeline/write-batcher.js';
import type { GenerationRuntime } from './generations/runtime.js';

/** Everything the ingestor's stages talk to; built once in main.ts (tests build their own). */
import type { ByteBudget } from './bytes-in-flight.js';

export interface IngestorDeps {
  config: Config;
  db: Knex;
  storage: Storage;
  embedder: Embedder;
  /** Coalesces the passages of concurrent documents into shared embed calls. */
  embedBatcher: EmbedBatcher;
  index: VectorIndex;
  /** Shares the end-of-run writes (Qdrant upserts, the `indexed` commits) across documents. */
  writeBatcher: WriteBatcher;
  boss: PgBoss;
  log: Logger;
  /**
   * Target tokens per chunk, fitted at start to the embedding model's context (main.ts,
   * chunkTokensFor). Unset (tests): CHUNK_TOKENS, else 400.
   */
  chunkTokens?: number;
  /** The index generations (a model change re-embeds into a shadow collection); main.ts sets it. */
  generations?: GenerationRuntime;
  /** docling-serve when DOCLING_URL is set. */
  docling?: DoclingClient | undefined;
  /** INGEST_MAX_BYTES_IN_FLIGHT: source bytes held by the jobs running now (bytes-in-flight.ts). */
  bytesInFlight?: ByteBudget;
}
