import {
  CollectionMissingError,
  configIdentity,
  createEmbedder,
  createVectorIndex,
  generationConfig,
  listGenerations,
  resolveActive,
  sameModel,
  type CollectionOps,
  type Generation,
  type VectorIndex,
} from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { EmbedBatcher } from '../pipeline/embed-batcher.js';
import { chunkTokensFor } from '../pipeline/tokens.js';

/**
 * The ingestor's view of the index generations: the active one (where ingest jobs write, with
 * its own model) and the one being built for the configured model, each as a complete
 * IngestorDeps, so the pipeline stages run unchanged against either.
 */
export interface GenerationRuntime {
  readonly ops: CollectionOps;
  /** Points written to the active generation; deletes and access changes to every kept one. */
  readonly index: VectorIndex;
  /** Deps of the generation search uses now. */
  active(): IngestorDeps & { generation: Generation };
  /** The configured model's shadow generation while it is built (or ready), else undefined. */
  building(): (IngestorDeps & { generation: Generation }) | undefined;
  depsFor(collection: string): (IngestorDeps & { generation: Generation }) | undefined;
  /** Every generation still kept (deletes and access changes go to all of them). */
  all(): Generation[];
  /** Re-read the rows and the alias; true when the active generation changed (a switch). */
  refresh(): Promise<boolean>;
}

type GenDeps = IngestorDeps & { generation: Generation };

/** The ingest path's deps for the active generation (the deps themselves without generations). */
export function activeDeps(deps: IngestorDeps): IngestorDeps {
  return deps.generations?.active() ?? deps;
}

/**
 * A VectorIndex whose writes of points go to `target()`, while deletes and access changes go to
 * every kept generation: a document deleted or re-shared during a re-embedding is deleted or
 * re-shared in the shadow (and in retired generations) too. A generation whose collection an
 * admin dropped meanwhile is skipped.
 */
export function fanOutIndex(target: () => VectorIndex, every: () => VectorIndex[]): VectorIndex {
  const each = async (fn: (index: VectorIndex) => Promise<void>) => {
    const primary = target();
    await fn(primary);
    for (const index of every()) {
      if (index === primary) continue;
      await fn(index).catch((err: unknown) => {
        if (!(err instanceof CollectionMissingError)) throw err;
      });
    }
  };
  return {
    get collection() {
      return target().collection;
    },
    ensureCollection: () => target().ensureCollection(),
    upsertChunks: (...args) => target().upsertChunks(...args),
    upsertDocuments: (writes) => target().upsertDocuments(writes),
    countDocumentPoints: (id) => target().countDocumentPoints(id),
    hybridSearch: (input) => target().hybridSearch(input),
    chunksInRanges: (principals, ranges) => target().chunksInRanges(principals, ranges),
    pointsInRanges: (principals, ranges) => target().pointsInRanges(principals, ranges),
    deleteDocument: (id) => each((i) => i.deleteDocument(id)),
    setPrincipals: (id, principals) => each((i) => i.setPrincipals(id, principals)),
  };
}

export async function createGenerationRuntime(
  base: IngestorDeps,
  ops: CollectionOps,
): Promise<GenerationRuntime> {
  const { config, db, log } = base;
  const want = configIdentity(config);
  /** The plain configured index keeps its own repair (main.ts's `base.index` before wrapping). */
  const plainIndex = base.index;
  const built = new Map<string, GenDeps>();
  /** Each kept generation's own collection index (retired ones too: deletes reach them). */
  const indexes = new Map<string, VectorIndex>();
  function indexFor(gen: Generation): VectorIndex {
    let index = indexes.get(gen.collection);
    if (!index) {
      const plain = gen.collection === config.QDRANT_COLLECTION && sameModel(gen, want);
      index = plain ? plainIndex : createVectorIndex(generationConfig(config, gen), { repair: false });
      indexes.set(gen.collection, index);
    }
    return index;
  }
  const keptIndexes = () => kept.map(indexFor);
  let active: GenDeps;
  let building: GenDeps | undefined;
  let kept: Generation[] = [];

  async function depsOf(gen: Generation): Promise<GenDeps> {
    const have = built.get(gen.collection);
    if (have) {
      have.generation = gen;
      return have;
    }
    const cfg = generationConfig(config, gen);
    const configured = sameModel(gen, want);
    const own = indexFor(gen);
    let chunkTokens = base.chunkTokens;
    let embedder = base.embedder;
    let embedBatcher = base.embedBatcher;
    if (!configured) {
      embedder = createEmbedder(cfg);
      embedBatcher = new EmbedBatcher(
        (texts, { signal, onTruncated }) => embedder.embedDocuments(texts, { signal, onTruncated }),
        {
          batchSize: config.EMBED_BATCH_SIZE,
          concurrency: config.EMBED_CONCURRENCY,
          maxWaitMs: config.EMBED_BATCH_WAIT_MS,
        },
      );
      // Chunks fit the model that embeds them (its context from /api/show); unknown: the default.
      const model = await embedder.checkModel().catch((err: unknown) => {
        log.warn({ err, model: gen.model }, 'could not read the context length of a generation model');
        return undefined;
      });
      chunkTokens = chunkTokensFor(model?.contextLength, config.CHUNK_TOKENS).tokens;
    }
    const deps: GenDeps = {
      ...base,
      config: cfg,
      embedder,
      embedBatcher,
      chunkTokens,
      generation: gen,
      index: fanOutIndex(() => own, keptIndexes),
    };
    built.set(gen.collection, deps);
    return deps;
  }

  async function refresh(): Promise<boolean> {
    const rows = await listGenerations(db, config.QDRANT_COLLECTION);
    const current = await resolveActive(db, ops, config);
    kept = rows.some((r) => r.collection === current.collection) ? rows : [current, ...rows];
    for (const map of [built, indexes])
      for (const collection of map.keys())
        if (!kept.some((k) => k.collection === collection)) map.delete(collection);
    const before = active as GenDeps | undefined;
    active = await depsOf(current);
    const shadow = rows.find(
      (r) =>
        r.collection !== current.collection &&
        sameModel(r, want) &&
        (r.state === 'building' || r.state === 'ready'),
    );
    building = shadow ? await depsOf(shadow) : undefined;
    return before !== undefined && before.generation.collection !== current.collection;
  }

  await refresh();
  return {
    ops,
    index: fanOutIndex(() => indexFor(active.generation), keptIndexes),
    active: () => active,
    building: () => building,
    depsFor: (collection) => built.get(collection),
    all: () => kept,
    refresh,
  };
}
