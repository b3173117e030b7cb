/**
 * The services an evaluation run needs beside Postgres and S3: the embedder (the ONNX model in
 * process unless an Ollama-compatible URL is given), the embedding cache in front of it, and Qdrant
 * (the in-process stand-in unless a real one is given), plus the run's drop folder and
 * configuration — a collection of the run's own, never the production one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseConfig, type Config } from '@rattgllm/core';
import { QdrantStandin } from '../test/standins/qdrant.js';
import { OnnxEmbedder } from '../test/standins/onnx-embedder.js';
import { EmbeddingCache } from './embed-cache.js';
import type { Dataset } from './datasets.js';
import type { EvalSettings } from './harness.js';

export interface EvalStack {
  env: Record<string, string>;
  config: Config;
  qdrantUrl: string;
  drop: string;
  onnx?: OnnxEmbedder;
  cache?: EmbeddingCache;
}

/** Starts what the settings do not name; each started service pushes its close onto `cleanups`. */
export async function startStack(
  data: Dataset,
  settings: EvalSettings,
  cleanups: (() => Promise<unknown>)[],
): Promise<EvalStack> {
  let embedderUrl = settings.embedderUrl;
  let onnx: OnnxEmbedder | undefined;
  if (!embedderUrl) {
    onnx = await new OnnxEmbedder({
      ...(settings.modelsDir ? { modelsDir: settings.modelsDir } : {}),
      model: settings.model,
      threads: settings.onnxThreads ?? 2,
    }).start();
    cleanups.push(() => onnx!.close());
    embedderUrl = onnx.url;
  }
  let cache: EmbeddingCache | undefined;
  if (settings.cacheDir) {
    cache = await new EmbeddingCache(embedderUrl, settings.cacheDir, settings.claimContext).start();
    cleanups.push(() => cache!.close());
    embedderUrl = cache.url;
  }
  let qdrantUrl = settings.qdrantUrl;
  if (!qdrantUrl) {
    const q = await new QdrantStandin().start();
    cleanups.push(() => q.close());
    qdrantUrl = q.url;
  }
  const drop = await mkdtemp(join(tmpdir(), 'rattg-eval-drop-'));
  cleanups.push(() => rm(drop, { recursive: true, force: true }));
  const env: Record<string, string> = {
    JWT_SECRET: 'eval-secret-0123456789abcdef',
    LOG_LEVEL: 'warn',
    ...settings.env,
    OLLAMA_URL: embedderUrl,
    QDRANT_URL: qdrantUrl,
    ...(settings.qdrantApiKey ? { QDRANT_API_KEY: settings.qdrantApiKey } : {}),
    // A collection of the run's own: an evaluation never touches the production index.
    QDRANT_COLLECTION: `eval_${data.name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`,
    EMBED_MODEL: settings.model,
    EMBED_DIM: String(settings.dimension),
    EMBED_DOCUMENT_PREFIX: settings.documentPrefix,
    EMBED_QUERY_PREFIX: settings.queryPrefix,
    DROP_DIR: drop,
    // Any free port for the ingestor's liveness endpoint: two runs (or a run beside a stack) collide on 8001.
    INGESTOR_HEALTH_PORT: '0',
    // Enough documents in flight to keep one embedder busy between small abstracts.
    INGEST_CONCURRENCY: '6',
    ...(settings.chunkTokens ? { CHUNK_TOKENS: String(settings.chunkTokens) } : {}),
    ...(settings.chunkOverlap !== undefined ? { CHUNK_OVERLAP: String(settings.chunkOverlap) } : {}),
  };
  return {
    env,
    config: parseConfig(env),
    qdrantUrl,
    drop,
    ...(onnx ? { onnx } : {}),
    ...(cache ? { cache } : {}),
  };
}
