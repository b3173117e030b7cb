/**
 * The ingestor process: takes jobs from the queue, watches the drop folder, and runs the
 * reconcile pass at start and every REINDEX_INTERVAL. Stops gracefully on SIGTERM/SIGINT.
 */
import { resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import {
  EmbedDimensionMismatchError,
  EmbedModelNotFoundError,
  JOBS,
  createDb,
  createCollectionOps,
  createEmbedder,
  createLogger,
  createStorage,
  createVectorIndex,
  loadConfigOrExit,
  sendInTransaction,
  startQueue,
  warnInsecureDefaults,
} from '@rattgllm/core';
import type { IngestorDeps } from './deps.js';
import { IngestWorker } from './worker.js';
import { chunkTokensFor } from './pipeline/tokens.js';
import { ByteBudget } from './bytes-in-flight.js';
import { DropWatcher } from './drop/watcher.js';
import { EmbedBatcher } from './pipeline/embed-batcher.js';
import { WriteBatcher } from './pipeline/write-batcher.js';
import { startHealth, type IngestorHealthService } from './health.js';
import { createDoclingClient, type DoclingOptions } from './pipeline/parse/docling.js';
import { requeueIndexed, startHealing } from './jobs/heal.js';
import { prepareGenerations } from './generations/bootstrap.js';
import { createGenerationRuntime } from './generations/runtime.js';
import { startRebuild } from './generations/driver.js';

export interface Ingestor {
  deps: IngestorDeps;
  worker: IngestWorker;
  watcher: DropWatcher | null;
  /** GET /health on 127.0.0.1 and the heartbeat row (health.ts). */
  health: IngestorHealthService;
  /** Queue a reconcile pass now (what the schedule does). */
  scheduleReconcile(): Promise<void>;
  stop(): Promise<void>;
}

/** Start everything; tests call this with their own configuration. */
export async function startIngestor(
  config: IngestorDeps['config'],
  options: {
    watch?: boolean;
    renameGraceMs?: number;
    stabilityMs?: number;
    /** Backoff of the drop folder's outage probe (ms); tests shorten it. */
    retryMinMs?: number;
    retryMaxMs?: number;
    /** How often the heartbeat row is written (ms); tests shorten it. */
    heartbeatMs?: number;
    pollingIntervalSeconds?: number;
    docling?: Partial<Omit<DoclingOptions, 'url'>>;
    /** How often the re-embedding driver runs (ms); tests shorten it. */
    rebuildIntervalMs?: number;
  } = {},
): Promise<Ingestor> {
  const log = createLogger(config, 'ingestor');
  warnInsecureDefaults(log, config);
  const db = createDb(config, log);
  const storage = createStorage(config);
  const embedder = createEmbedder(config);
  // Whoever finds the collection missing re-creates it (core/src/vector); the documents whose
  // points it held are re-queued at once. `deps` exists by the time any job can find it missing.
  const late: { deps?: IngestorDeps } = {};
  const index = createVectorIndex(config, {
    onCollectionRecreated: async () => {
      if (!late.deps) return;
      const n = await requeueIndexed(late.deps, 'The search index was lost; re-indexing');
      log.warn({ requeued: n }, 'Qdrant collection was missing: re-created it and re-queued its documents');
    },
  });
  await storage.ensureBucket();
  let chunkTokens = chunkTokensFor(undefined, config.CHUNK_TOKENS);
  try {
    const model = await embedder.checkModel();
    chunkTokens = chunkTokensFor(model.contextLength, config.CHUNK_TOKENS);
    log.info({ ...model, chunkTokens: chunkTokens.tokens }, 'embedding model ready');
  } catch (err) {
    // A wrong model or dimension would index garbage: refuse to start. A service that is down
    // is different: jobs wait and retry until it is back.
    if (err instanceof EmbedModelNotFoundError || err instanceof EmbedDimensionMismatchError) throw err;
    log.error({ err }, 'embedding service not ready; documents will wait and retry');
  }
  const boss = await startQueue(config, {
    work: true,
    onError: (err) => log.error({ err }, 'job queue error'),
  });
  const docling = config.DOCLING_URL
    ? createDoclingClient({ url: config.DOCLING_URL, ...options.docling })
    : undefined;
  if (chunkTokens.warning) log.warn({ chunkTokens: chunkTokens.tokens }, chunkTokens.warning);
  const embedBatcher = new EmbedBatcher(
    (texts, { signal, onTruncated }) => embedder.embedDocuments(texts, { signal, onTruncated }),
    {
      batchSize: config.EMBED_BATCH_SIZE,
      concurrency: config.EMBED_CONCURRENCY,
      maxWaitMs: config.EMBED_BATCH_WAIT_MS,
    },
  );
  const deps: IngestorDeps = {
    config,
    db,
    storage,
    embedder,
    embedBatcher,
    writeBatcher: new WriteBatcher(),
    index,
    boss,
    log,
    docling,
    chunkTokens: chunkTokens.tokens,
    bytesInFlight: new ByteBudget(config.INGEST_MAX_BYTES_IN_FLIGHT),
  };
  late.deps = deps;
  // The active generation's collection (plain, or behind the alias), and the shadow one when the
  // configured model changed; from here on points go to the active one, deletes to all.
  const ops = createCollectionOps(config);
  await prepareGenerations(deps, ops);
  deps.generations = await createGenerationRuntime(deps, ops);
  deps.index = deps.generations.index;

  const root = resolve(config.DROP_DIR);
  await mkdir(root, { recursive: true });
  const worker = new IngestWorker(deps, {
    dropRoot: root,
    ...(options.pollingIntervalSeconds ? { pollingIntervalSeconds: options.pollingIntervalSeconds } : {}),
  });
  await worker.start();
  const stopHealing = startHealing(deps);
  const scheduleReconcile = async () => {
    await sendInTransaction(boss, db, JOBS.reconcile, {});
  };
  const stopRebuild = startRebuild(deps, deps.generations, {
    onSwitched: scheduleReconcile,
    ...(options.rebuildIntervalMs ? { intervalMs: options.rebuildIntervalMs } : {}),
  });
  const watcher =
    options.watch === false
      ? null
      : new DropWatcher(deps, root, { ...options, requestReconcile: scheduleReconcile });
  await watcher?.start();
  const health = await startHealth(deps, { worker, watcher }, { heartbeatMs: options.heartbeatMs });

  await scheduleReconcile(); // the pass at start
  const timer = setInterval(() => {
    scheduleReconcile().catch((err: unknown) => log.error({ err }, 'could not schedule the reconcile pass'));
  }, config.REINDEX_INTERVAL * 1000);
  timer.unref();

  let stopping: Promise<void> | null = null;
  return {
    deps,
    worker,
    watcher,
    health,
    scheduleReconcile,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await stopRebuild();
        await stopHealing();
        await health.stop();
        await watcher?.stop();
        await worker.stop();
        await db.destroy();
      })()),
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const config = loadConfigOrExit();
  const ingestor = await startIngestor(config).catch((err: unknown) => {
    console.error(`ingestor could not start: ${(err as Error).message}`);
    process.exit(1);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      ingestor.deps.log.info({ signal }, 'stopping: finishing the jobs in hand');
      ingestor.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          ingestor.deps.log.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
    });
}
