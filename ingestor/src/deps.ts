import type { Config, Embedder, Knex, Logger, PgBoss, Storage, VectorIndex } from '@rattgllm/core';
import type { DoclingClient } from './pipeline/parse/index.js';

/** Everything the ingestor's stages talk to; built once in main.ts (tests build their own). */
export interface IngestorDeps {
  config: Config;
  db: Knex;
  storage: Storage;
  embedder: Embedder;
  index: VectorIndex;
  boss: PgBoss;
  log: Logger;
  /** docling-serve when DOCLING_URL is set. */
  docling?: DoclingClient | undefined;
}

/** The documents columns the ingestor reads and writes. */
export interface DocumentRecord {
  id: string;
  owner_id: string | null;
  filename: string;
  mime: string;
  size: number;
  sha256: string;
  storage_key: string;
  source: 'upload' | 'drop';
  source_path: string | null;
  access: string;
  tags: string[];
  status: 'pending' | 'processing' | 'indexed' | 'failed' | 'deleted';
  progress: number;
  error: string | null;
  chunk_count: number;
  version: number;
  indexed_sha256: string | null;
  index_signature: string | null;
}
