import type { Knex } from 'knex';
import type { Config } from '../config.js';
import { createEmbedder, type Embedder, type EmbedderConfig } from '../embed/embedder.js';
import { createCollectionOps, type CollectionOps } from './aliases.js';
import {
  findGeneration,
  generationConfig,
  resolveActive,
  sameModel,
  configIdentity,
  type Generation,
} from './generations.js';
import {
  createVectorIndex,
  type VectorIndex,
  type VectorIndexConfig,
  type VectorIndexOptions,
} from './vectorIndex.js';
import { CollectionMissingError } from './errors.js';

export type ServingConfig = EmbedderConfig &
  VectorIndexConfig &
  Pick<Config, 'EMBED_DOCUMENT_PREFIX' | 'EMBED_QUERY_PREFIX'>;

/** A generation with the embedder of its model and the vector index of its collection. */
export interface ServingGeneration {
  generation: Generation;
  embedder: Embedder;
  index: VectorIndex;
}

export interface Serving {
  ops: CollectionOps;
  /** The generation search uses now (Qdrant's alias; cached for `ttlMs`). */
  active(): Promise<ServingGeneration>;
  /** A generation by its collection (admin comparison), undefined when there is none. */
  get(collection: string): Promise<ServingGeneration | undefined>;
  /**
   * Run `fn` on the active generation; when its collection is gone (dropped, or switched away
   * the moment before), resolve again and run once more on the new one — a search during a
   * switch never fails because of it.
   */
  withActive<T>(fn: (gen: ServingGeneration) => Promise<T>): Promise<T>;
  /** Forget the cached resolution (after a switch). */
  invalidate(): void;
}

export interface ServingOptions {
  db: Knex;
  config: ServingConfig;
  /** Reused for the configured model, so callers that wrap it (eval's query cache) keep working. */
  embedder?: Embedder;
  /** The configured collection's own index (with its repair), reused when it is the one serving. */
  index?: VectorIndex;
  ttlMs?: number;
  indexOptions?: VectorIndexOptions;
}

export function createServing(options: ServingOptions): Serving {
  const { db, config } = options;
  const ttlMs = options.ttlMs ?? 2_000;
  const ops = createCollectionOps(config);
  const built = new Map<string, { embedder: Embedder; index: VectorIndex }>();
  let cached: { at: number; gen: Generation } | undefined;
  // One look-up at a time, shared by every request that needs it; `epoch` drops the answer of a
  // look-up that began before an invalidate (it may name the generation just found missing).
  let pending: Promise<Generation> | undefined;
  let epoch = 0;

  function serve(gen: Generation): ServingGeneration {
    let parts = built.get(gen.collection);
    if (!parts) {
      const cfg = generationConfig(config, gen);
      const configured = sameModel(gen, configIdentity(config));
      const plain = gen.collection === config.QDRANT_COLLECTION;
      parts = {
        embedder: configured && options.embedder ? options.embedder : createEmbedder(cfg),
        // Only the plain collection of the configured model repairs itself (as before): a versioned
        // one that is missing was dropped or lost with its alias, and a plain one of another model
        // is about to become an alias (the ingestor's migration), so re-creating either is wrong.
        index:
          plain && configured && options.index
            ? options.index
            : createVectorIndex(cfg, { ...options.indexOptions, repair: plain && configured }),
      };
      built.set(gen.collection, parts);
    }
    return { generation: gen, ...parts };
  }

  function lookUp(): Promise<Generation> {
    if (pending) return pending;
    const mine = epoch;
    const started = Date.now();
    const p = resolveActive(db, ops, config)
      .then((gen) => {
        if (mine === epoch) cached = { at: started, gen };
        return gen;
      })
      .finally(() => {
        if (pending === p) pending = undefined;
      });
    pending = p;
    return p;
  }

  /**
   * The active generation, looked up again past `ttlMs` (so a switch is seen within it). Every
   * request that finds it expired waits for the same one look-up, not one each: 200 concurrent
   * chat turns make one round trip every `ttlMs`, not 200.
   */
  async function active(): Promise<ServingGeneration> {
    if (cached && Date.now() - cached.at <= ttlMs) return serve(cached.gen);
    return serve(await lookUp());
  }

  function forget(): void {
    cached = undefined;
    pending = undefined;
    epoch++;
  }

  return {
    ops,
    active,
    async get(collection) {
      const gen = await findGeneration(db, collection);
      if (gen && gen.alias === config.QDRANT_COLLECTION) return serve(gen);
      if (collection === config.QDRANT_COLLECTION) return active();
      return undefined;
    },
    async withActive(fn) {
      const first = await active();
      try {
        return await fn(first);
      } catch (err) {
        if (!(err instanceof CollectionMissingError)) throw err;
        forget();
        const again = await active();
        if (again.generation.collection === first.generation.collection) throw err;
        return fn(again);
      }
    },
    invalidate: forget,
  };
}
