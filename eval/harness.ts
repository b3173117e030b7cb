/**
 * The evaluation run: a dataset goes into the drop folder, the real ingestor (parse → chunk →
 * embed → index) fills a Qdrant collection of its own, and every query goes through the
 * gateway's `rag.retrieve` — the one retrieval path `/search` and chat use.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseConfig } from '@rattgllm/core';
import { buildApp } from '../gateway/src/build.js';
import type { RetrieveInput } from '../gateway/src/retrieval/retrieve.js';
import type {} from '../gateway/src/plugins/app/pipelines.js';
import type {} from '../gateway/src/plugins/app/db.js';
import { startIngestor } from '../ingestor/src/main.js';
import { QdrantStandin } from '../test/standins/qdrant.js';
import { OnnxEmbedder } from '../test/standins/onnx-embedder.js';
import { EmbeddingCache } from './embed-cache.js';
import { dumpIndex } from './dump.js';
import { adminIdentity, runSweep, type Variant, type VariantFigures } from './sweep.js';
import { followUpPairs, scoreFollowUps, type FollowUpFigures } from './followups.js';
import type { Dataset, EvalQuery } from './datasets.js';
import {
  finishQa,
  firstAppearance,
  mean,
  mrrAt,
  ndcgAt,
  newQa,
  recallAt,
  scoreQa,
  type QaFigures,
} from './metrics.js';

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

type Mode = 'hybrid' | 'dense' | 'sparse';

export async function runEval(data: Dataset, settings: EvalSettings): Promise<EvalReport> {
  const log = settings.log ?? (() => {});
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
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
    const config = parseConfig(env);

    // ---- ingest through the drop folder
    const t0 = performance.now();
    for (const d of data.documents) {
      await mkdir(join(drop, 'shared'), { recursive: true });
      await writeFile(join(drop, 'shared', d.filename), d.content);
    }
    const ingestor = await startIngestor(config, { renameGraceMs: 200, stabilityMs: 100 });
    cleanups.push(() => ingestor.stop());
    const db = ingestor.deps.db;
    let lastLog = 0;
    for (;;) {
      const r = (await db('documents')
        .select(
          db.raw(
            `count(*) filter (where status in ('indexed','failed'))::int as done, count(*) filter (where status = 'failed')::int as failed, coalesce(sum(chunk_count),0)::int as chunks`,
          ),
        )
        .first()) as { done: number; failed: number; chunks: number };
      if (r.done >= data.documents.length) {
        if (r.failed > 0) throw new Error(`${r.failed} documents failed to ingest`);
        break;
      }
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`  ingested ${r.done}/${data.documents.length} documents, ${r.chunks} chunks`);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    const chunks = Number((await db('chunks').count({ n: '*' }).first())!.n);
    log(`  ingested ${data.documents.length} documents, ${chunks} chunks in ${ingestSeconds.toFixed(0)} s`);

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
    const { topK, minScore } = pipeline.retrieval;
    // Each query is asked in five ways; embed it once. Only the evaluation does this: the
    // retrieval code below is the gateway's, unchanged.
    const embedQuery = app.rag.embedder.embedQuery.bind(app.rag.embedder);
    const queryVectors = new Map<string, Promise<number[]>>();
    app.rag.embedder.embedQuery = (text, options) => {
      let v = queryVectors.get(text);
      if (!v) queryVectors.set(text, (v = embedQuery(text, options)));
      return v;
    };
    const stem = (filename: string) => filename.replace(/\.[^.]+$/, '');
    // Mean time per retrieval step over every call (windowMs: the passage windows' extra fetch).
    const spent = { calls: 0, embedMs: 0, searchMs: 0, checkMs: 0, windowMs: 0 };
    const retrieve = (input: Omit<RetrieveInput, 'identity'>) =>
      app.rag.retrieve({ identity, ...input }).then((r) => {
        spent.calls++;
        for (const k of ['embedMs', 'searchMs', 'checkMs', 'windowMs'] as const) spent[k] += r.timings[k];
        return r.passages;
      });

    const t1 = performance.now();
    const perMode: Record<
      string,
      { ndcg10: number[]; recall10: number[]; recall100: number[]; mrr10: number[] }
    > = {};
    const add = (mode: string, ranked: string[], deep: string[], relevant: Set<string>) => {
      const m = (perMode[mode] ??= { ndcg10: [], recall10: [], recall100: [], mrr10: [] });
      m.ndcg10.push(ndcgAt(ranked, relevant, 10));
      m.recall10.push(recallAt(ranked, relevant, 10));
      m.recall100.push(recallAt(deep, relevant, 100));
      m.mrr10.push(mrrAt(ranked, relevant, 10));
    };
    let fewerThan10 = 0;
    const light = settings.light ?? false;
    const qa = { search: newQa(), chat: newQa() };
    let done = 0;
    for (const q of data.queries) {
      const relevant = new Set(q.relevant);
      // /search as served (one entry per document) with limit 10, and limit 100 for Recall@100.
      const served = await retrieve({ query: q.text, limit: 10, group: 'document' });
      // --light: /search, chat and the passages COVID-QA's answers need; no limit-100 lists.
      const deep = light ? served : await retrieve({ query: q.text, limit: 100, group: 'document' });
      const servedDocs = firstAppearance(served.map((p) => stem(p.filename)));
      if (servedDocs.length < 10) fewerThan10++;
      add('search', servedDocs, firstAppearance(deep.map((p) => stem(p.filename))), relevant);
      for (const mode of light ? [] : (['hybrid', 'dense', 'sparse'] as Mode[])) {
        const ps =
          mode === 'hybrid' ? deep : await retrieve({ query: q.text, limit: 100, mode, group: 'document' });
        const docs = firstAppearance(ps.map((p) => stem(p.filename)));
        add(mode, docs, docs, relevant);
      }
      const chat = await retrieve({ query: q.text, limit: topK, minScore });
      const chatDocs = firstAppearance(chat.map((p) => stem(p.filename)));
      add('chat', chatDocs, chatDocs, relevant);
      // Ablations on the same index (no re-ingest): /search one entry per passage (its shape
      // before grouping), and the chat path with the floor on cosine alone (before BM25 hits kept).
      const flat = await retrieve({ query: q.text, limit: 10, group: 'passage' });
      const flatDocs = firstAppearance(flat.map((p) => stem(p.filename)));
      add('searchPassages', flatDocs, flatDocs, relevant);
      if (!light) {
        const unfloored = await retrieve({ query: q.text, limit: topK * 2 });
        const cosineOnly = unfloored
          .filter((p) => p.denseScore !== null && p.denseScore >= minScore)
          .slice(0, topK);
        const cosineDocs = firstAppearance(cosineOnly.map((p) => stem(p.filename)));
        add('chatCosineFloor', cosineDocs, cosineDocs, relevant);
      }
      if (q.answers?.length) {
        // The right paper among /search's documents; the answer among its passages as ranked
        // (group "passage", as chat sees them), so one document's best passage is not all that counts.
        scoreQa(qa.search, served, relevant, q.answers, stem, flat);
        scoreQa(qa.chat, chat, relevant, q.answers, stem);
      }
      if (++done % 50 === 0) log(`  ${done}/${data.queries.length} queries`);
    }
    const pairs = data.queries.some((q) => q.answers?.length) ? followUpPairs(data) : [];
    const followUps = pairs.length
      ? await scoreFollowUps(pairs, async (query) =>
          firstAppearance(
            (await retrieve({ query, limit: 10, group: 'document' })).map((p) => stem(p.filename)),
          ),
        )
      : undefined;
    const querySeconds = (performance.now() - t1) / 1000;
    const modes = Object.fromEntries(
      Object.entries(perMode).map(([k, v]) => [
        k,
        {
          ndcg10: mean(v.ndcg10),
          recall10: mean(v.recall10),
          recall100: mean(v.recall100),
          mrr10: mean(v.mrr10),
          ...(k === 'search' ? { fewerThan10Docs: fewerThan10 } : {}),
        },
      ]),
    ) as EvalReport['modes'];
    const n = data.queries.length;
    const hasQa = data.queries.some((q) => q.answers?.length);
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
        pipeline: { id: pipeline.id, topK, minScore },
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
      ...(hasQa ? { qa: { search: finishQa(qa.search, n), chat: finishQa(qa.chat, n) } } : {}),
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
        { topK, minScore },
        log,
      );
    }
    return report;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}
