/**
 * The evaluation run: a dataset goes into the drop folder, the real ingestor (parse → chunk →
 * embed → index) fills a Qdrant collection of its own, and every query goes through the
 * gateway's `rag.retrieve` — the one retrieval path `/search` and chat use.
 */
import { parseConfig } from '@rattgllm/core';
import { buildApp } from '../gateway/src/build.js';
import type { RetrieveInput } from '../gateway/src/retrieval/retrieve.js';
import type {} from '../gateway/src/plugins/app/pipelines.js';
import type {} from '../gateway/src/plugins/app/db.js';
import { dumpIndex } from './dump.js';
import { adminIdentity, runSweep, type Variant, type VariantFigures } from './sweep.js';
import type { FollowUpFigures } from './followups.js';
import type { Dataset, EvalQuery } from './datasets.js';
import type { QaFigures } from './metrics.js';
import { startStack } from './stack.js';
import { ingestDataset } from './ingest.js';
import { runQueries } from './queries.js';

export interface EvalSettings {
  /** An Ollama-compatible embedder; without it, the ONNX model runs in process. */
  embedderUrl?: string;
  /** The in-process embedder's model folder (default ../shared/models). */
  modelsDir?: string;
  onnxThreads?: number;
  /** Embeddings kept on disk by model + text (see embed-cache.ts); unset: no cache. */
  cacheDir?: string;
  model: string;
  dimension: number;
  /** "none" for models without prefixes. */
  documentPrefix: string;
  queryPrefix: string;
  chunkTokens?: number;
  chunkOverlap?: number;
  /** Ablation: the embedder claims this context length (through the cache proxy; see embed-cache.ts). */
  claimContext?: number;
  /** A real Qdrant; without it, the in-process stand-in. */
  qdrantUrl?: string;
  qdrantApiKey?: string;
  /** Postgres (a database of the run's own) and S3. */
  env: Record<string, string>;
  /** The pipeline whose topK/minScore the chat path uses (default rattgllm). */
  pipelineId?: string;
  log?: (line: string) => void;
  /** Settings to compare on the same index (sweep.ts), over the test queries and `tuning`. */
  sweep?: Variant[];
  tuning?: EvalQuery[];
  /** Only /search (limit 10), chat and per-passage search: a third of the queries' cost. */
  light?: boolean;
  /** Called with the main figures before a sweep starts (so they are kept if it is cut short). */
  onMainReport?: (report: EvalReport) => Promise<void>;
  /** Write the index and the query vectors (test and `tuning`) to this file and stop (dump.ts). */
  dump?: string;
}

export interface ModeFigures {
  ndcg10: number;
  recall10: number;
  recall100: number;
  mrr10: number;
  /** Queries whose first 10 results named fewer than 10 documents. */
  fewerThan10Docs?: number;
}

export type { QaFigures };

export interface EvalReport {
  dataset: string;
  documents: number;
  queries: number;
  chunks: number;
  settings: Record<string, unknown>;
  ingestSeconds: number;
  querySeconds: number;
  /** Mean ms per retrieval call by step (embed, search, check, window), and the calls made. */
  retrieveMs?: Record<string, number>;
  /** Passages the embedder cut (only known for the in-process embedder). */
  truncatedPassages?: number;
  embeddedPassages?: number;
  /** Embedding cache: inputs answered from it and inputs the model embedded. */
  cache?: { hits: number; misses: number };
  modes: Partial<
    Record<
      'search' | 'hybrid' | 'dense' | 'sparse' | 'chat' | 'searchPassages' | 'chatCosineFloor',
      ModeFigures
    >
  >;
  /** COVID-QA (answers known): /search top 10 and the chat path. */
  qa?: { search: QaFigures; chat: QaFigures };
  /** COVID-QA: the follow-up set (followups.ts), right paper in /search's top 5. */
  followUps?: FollowUpFigures;
  sweep?: VariantFigures[];
}

export async function runEval(data: Dataset, settings: EvalSettings): Promise<EvalReport> {
  const log = settings.log ?? (() => {});
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const { env, config, qdrantUrl, drop, onnx, cache } = await startStack(data, settings, cleanups);
    const { ingestor, ingestSeconds, chunks } = await ingestDataset(data, config, drop, cleanups, log);

    // ---- query through the gateway's retrieval
    const app = await buildApp(config);
    cleanups.push(() => app.close());
    if (settings.dump) {
      await dumpIndex(
        settings.dump,
        qdrantUrl,
        env.QDRANT_COLLECTION!,
        { test: data.queries, ...(settings.tuning ? { tuning: settings.tuning } : {}) },
        (text) => app.rag.embedder.embedQuery(text),
      );
      log(`  dumped ${chunks} points and the query vectors to ${settings.dump}`);
      const settingsOf = { model: config.EMBED_MODEL, dump: settings.dump };
      return {
        dataset: data.name,
        documents: data.documents.length,
        queries: 0,
        chunks,
        settings: settingsOf,
        ingestSeconds,
        querySeconds: 0,
        modes: {},
      };
    }
    const identity = await adminIdentity(app);
    const pipeline = app.pipelines.get(settings.pipelineId ?? 'rattgllm');
    if (!pipeline) throw new Error(`no pipeline ${settings.pipelineId ?? 'rattgllm'} in PIPELINES_DIR`);
    const { topK, minScore, maxContextTokens } = pipeline.retrieval;
    // Each query is asked in five ways; embed it once. Only the evaluation does this: the
    // retrieval code below is the gateway's, unchanged.
    const embedQuery = app.rag.embedder.embedQuery.bind(app.rag.embedder);
    const queryVectors = new Map<string, Promise<number[]>>();
    app.rag.embedder.embedQuery = (text, options) => {
      let v = queryVectors.get(text);
      if (!v) queryVectors.set(text, (v = embedQuery(text, options)));
      return v;
    };
    // Mean time per retrieval step over every call (windowMs: the passage windows' extra fetch).
    const spent = { calls: 0, embedMs: 0, searchMs: 0, checkMs: 0, windowMs: 0 };
    const retrieve = (input: Omit<RetrieveInput, 'identity'>) =>
      app.rag.retrieve({ identity, ...input }).then((r) => {
        spent.calls++;
        for (const k of ['embedMs', 'searchMs', 'checkMs', 'windowMs'] as const) spent[k] += r.timings[k];
        return r.passages;
      });

    const t1 = performance.now();
    const light = settings.light ?? false;
    const chatPath = { topK, minScore, maxContextTokens };
    const { modes, qa, followUps } = await runQueries(data, retrieve, chatPath, light, log);
    const querySeconds = (performance.now() - t1) / 1000;
    const n = data.queries.length;
    const report: EvalReport = {
      dataset: data.name,
      documents: data.documents.length,
      queries: n,
      chunks,
      settings: {
        embedder: settings.embedderUrl ? 'external' : 'onnx in process',
        model: config.EMBED_MODEL,
        dimension: config.EMBED_DIM,
        documentPrefix: config.EMBED_DOCUMENT_PREFIX,
        queryPrefix: config.EMBED_QUERY_PREFIX,
        chunkTokens: ingestor.deps.chunkTokens ?? config.CHUNK_TOKENS ?? null,
        chunkOverlap: config.CHUNK_OVERLAP,
        ...(settings.claimContext ? { claimedModelContext: settings.claimContext } : {}),
        pipeline: { id: pipeline.id, ...chatPath },
        ...(light ? { light: true } : {}),
      },
      ingestSeconds,
      querySeconds,
      retrieveMs: Object.fromEntries(
        Object.entries(spent).map(([k, v]) => [k, k === 'calls' ? v : v / Math.max(1, spent.calls)]),
      ),
      ...(onnx
        ? { truncatedPassages: onnx.counters.truncatedInputs, embeddedPassages: onnx.counters.embedInputs }
        : {}),
      ...(cache ? { cache: { ...cache.counters } } : {}),
      modes,
      ...(qa ? { qa } : {}),
      ...(followUps ? { followUps } : {}),
    };
    if (settings.sweep?.length) {
      // The main figures first: a sweep cut short still leaves them.
      await settings.onMainReport?.(report);
      report.sweep = await runSweep(
        env,
        parseConfig,
        settings.sweep,
        { test: data.queries, ...(settings.tuning ? { tuning: settings.tuning } : {}) },
        chatPath,
        log,
      );
    }
    return report;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}
