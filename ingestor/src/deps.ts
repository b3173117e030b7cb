import type { Config, Embedder, Knex, Logger, PgBoss, Storage, VectorIndex } from '@rattgllm/core';
import type { DoclingClient } from './pipeline/parse/index.js';
import type { EmbedBatcher } from './pipeline/embed-batcher.js';

/** Everything the ingestor's stages talk to; built once in main.ts (tests build their own). */
export interface IngestorDeps {
  config: Config;
  db: Knex;
  storage: Storage;
  embedder: Embedder;
  /** Coalesces the passages of concurrent documents into shared embed calls. */
  embedBatcher: EmbedBatcher;
  index: VectorIndex;
  boss: PgBoss;
  log: Logger;
  /**
   * Target tokens per chunk, fitted at start to the embedding model's context (main.ts,
   * chunkTokensFor). Unset (tests): CHUNK_TOKENS, else 400.
   */
  chunkTokens?: number;
  /** docling-serve when DOCLING_URL is set. */
  docling?: DoclingClient | undefined;
}
