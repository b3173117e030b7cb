import {
  createDocuments,
  setStatus,
  type DocumentPoints,
  type DocumentRow,
  type Knex,
  type NewDocument,
  type PgBoss,
  type VectorIndex,
} from '@rattgllm/core';
import { commitIndexed, getDocuments, type IndexedRun } from '../store.js';
import { Coalescer, type CoalesceOptions } from './coalesce.js';

/**
 * The ingestor's per-document statements, shared across the documents in flight (coalesce.ts):
 * - the points of several documents in one Qdrant upsert (`wait: true`), then one delete of the
 *   points they replace;
 * - their chunk rows and `indexed` status in one Postgres transaction;
 * - the reads of their rows, their `processing` transitions, and the rows and jobs of new
 *   drop-folder documents in one statement each.
 * A document's write resolves only once the request that carried it succeeded, so it is `indexed`
 * only after its points are durable; a failed shared request is split and each document written
 * alone. One batcher per process (main.ts); its queues are per collection and per database, so
 * index generations stay apart.
 */
export interface WriteBatcherOptions {
  /** Points per Qdrant request (the index splits a larger document's own write). */
  maxPoints: number;
  /** Documents per shared write. */
  maxDocuments: number;
  /** Shared writes in flight per collection and per database. */
  concurrency: number;
}

export const DEFAULT_WRITE_BATCHING: WriteBatcherOptions = {
  maxPoints: 128,
  maxDocuments: 64,
  concurrency: 2,
};

/** Chunk rows per commit transaction (one multi-row insert each 500). */
const MAX_COMMIT_ROWS = 2000;

export class WriteBatcher {
  private readonly upserts = new WeakMap<VectorIndex, Coalescer<DocumentPoints, string[]>>();
  private readonly commits = new WeakMap<Knex, Coalescer<IndexedRun, DocumentRow | undefined>>();
  private readonly reads = new WeakMap<Knex, Coalescer<string, DocumentRow | undefined>>();
  private readonly starts = new WeakMap<Knex, Coalescer<string, void>>();
  private readonly creates = new WeakMap<Knex, Coalescer<NewDocument, DocumentRow>>();

  constructor(private readonly options: WriteBatcherOptions = DEFAULT_WRITE_BATCHING) {}

  /** A document version's points, durable when this resolves; the point ids in chunk order. */
  upsert(index: VectorIndex, write: DocumentPoints, signal?: AbortSignal): Promise<string[]> {
    const flush = (writes: DocumentPoints[]) => index.upsertDocuments(writes);
    const weight = { maxWeight: this.options.maxPoints, weight: (w: DocumentPoints) => w.chunks.length };
    return this.queue(this.upserts, index, flush, weight).run(write, signal);
  }

  /** store.ts commitIndexed of one run, in a transaction shared with other runs ready now. */
  commit(db: Knex, run: IndexedRun, signal?: AbortSignal): Promise<DocumentRow | undefined> {
    const weight = { maxWeight: MAX_COMMIT_ROWS, weight: (r: IndexedRun) => r.chunks.length };
    return this.queue(this.commits, db, (runs) => commitIndexed(db, runs), weight).run(run, signal);
  }

  /** A new document and its ingest job (lifecycle createDocuments), with others registered now. */
  createDocument(db: Knex, boss: PgBoss, doc: NewDocument): Promise<DocumentRow> {
    return this.queue(this.creates, db, (docs) => createDocuments(db, boss, docs)).run(doc);
  }

  /** The document's row whatever its status (store.ts getDocument), read with others asked for now. */
  read(db: Knex, id: string): Promise<DocumentRow | undefined> {
    return this.queue(this.reads, db, async (ids) => {
      const rows = new Map((await getDocuments(db, ids)).map((r) => [r.id, r]));
      return ids.map((i) => rows.get(i));
    }).run(id);
  }

  /** A run begins: the live document `processing` (lifecycle setStatus), with others starting now. */
  start(db: Knex, id: string): Promise<void> {
    return this.queue(this.starts, db, async (ids) => {
      await setStatus(db, ids, {
        status: 'processing',
        progress: 0,
        error: null,
        next_attempt_at: null,
        started: true,
      });
      return ids.map(() => undefined);
    }).run(id);
  }

  private queue<K extends object, I, O>(
    map: WeakMap<K, Coalescer<I, O>>,
    key: K,
    flush: (items: I[]) => Promise<O[]>,
    weight: Pick<CoalesceOptions<I>, 'maxWeight' | 'weight'> = { maxWeight: Infinity },
  ): Coalescer<I, O> {
    let queue = map.get(key);
    if (!queue) {
      const { maxDocuments: maxItems, concurrency } = this.options;
      queue = new Coalescer(flush, { maxItems, concurrency, ...weight });
      map.set(key, queue);
    }
    return queue;
  }

  /** Shared requests so far (figures for tests and diagnosis). */
  stats(index: VectorIndex, db: Knex): { upserts: Stats | undefined; commits: Stats | undefined } {
    return { upserts: this.upserts.get(index)?.stats, commits: this.commits.get(db)?.stats };
  }
}

type Stats = Coalescer<unknown, unknown>['stats'];
