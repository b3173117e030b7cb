import { failAbandoned, queueIngest, releaseLostJobs as releaseLost } from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { indexedPage } from '../store.js';

/** Documents read per page: bounded memory and short queries, whatever the corpus size. */
const PAGE = 200;
/** Qdrant count requests in flight at once during the consistency check. */
const COUNT_PARALLELISM = 4;

/**
 * Put indexed documents back in the queue (`pending`, re-embedded) because their points are not
 * in Qdrant. `ids` limits it to those documents; without, every indexed document (the collection
 * was lost). Returns how many were re-queued.
 */
export async function requeueIndexed(deps: IngestorDeps, reason: string, ids?: string[]): Promise<number> {
  const { db } = deps;
  let queued = 0;
  let after = '';
  for (;;) {
    const page: { id: string }[] = ids
      ? ids.splice(0, PAGE).map((id) => ({ id }))
      : await indexedPage(db, after || '00000000-0000-0000-0000-000000000000', PAGE);
    if (page.length === 0) return queued;
    after = page[page.length - 1]!.id;
    for (const { id } of page) {
      // Only a document still `indexed`: one being worked on writes its points anyway.
      const { updated } = await queueIngest(db, deps.boss, id, { force: true, onlyFrom: 'indexed', reason });
      if (updated) queued++;
    }
  }
}

/**
 * The light consistency check: for every indexed document (in pages), the points Qdrant holds
 * against `chunk_count`; a document short of points is re-queued, so `indexed` means searchable.
 * One count request per document, a few at a time.
 */
export async function checkIndexedPoints(
  deps: IngestorDeps,
  signal?: AbortSignal,
): Promise<{ checked: number; requeued: number }> {
  const { db } = deps;
  let checked = 0;
  let requeued = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    signal?.throwIfAborted();
    const page = await indexedPage(db, after, PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const short: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < page.length) {
        const doc = page[next++]!;
        if ((await deps.index.countDocumentPoints(doc.id)) !== doc.chunk_count) short.push(doc.id);
      }
    };
    await Promise.all(Array.from({ length: COUNT_PARALLELISM }, lane));
    checked += page.length;
    if (short.length) {
      requeued += await requeueIndexed(
        deps,
        'Its passages were missing from the search index; re-indexing',
        short,
      );
    }
  }
  if (requeued) deps.log.warn({ checked, requeued }, 'consistency check: re-queued documents missing points');
  return { checked, requeued };
}

/**
 * Documents whose worker stopped (see core's releaseLostJobs) are `pending` again; how many.
 * Those no job will take again (their worker died on every attempt) are `failed` (failAbandoned).
 */
export async function releaseLostJobs(deps: IngestorDeps): Promise<number> {
  const n = (await releaseLost(deps.db)).length;
  if (n) deps.log.warn({ released: n }, 'documents whose worker stopped are pending again');
  const abandoned = await failAbandoned(deps.db);
  if (abandoned.length)
    deps.log.error({ documents: abandoned }, 'documents whose worker stopped on every attempt are failed');
  return n;
}

/**
 * Run the checks on their timers: lost jobs a few times per heartbeat period, the points check
 * every CONSISTENCY_CHECK_INTERVAL. A pass never overlaps the previous one. Returns `stop`.
 */
export function startHealing(deps: IngestorDeps): () => Promise<void> {
  const { config, log } = deps;
  const stop = new AbortController();
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, what: string, fn: () => Promise<unknown>) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || stop.signal.aborted) return;
      busy = true;
      const p = fn()
        .catch((err: unknown) => {
          if (!stop.signal.aborted) log.error({ err }, `${what} failed; trying again next time`);
        })
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    }, ms);
    timer.unref();
    return timer;
  };
  const timers = [
    every(Math.max(1000, (config.JOB_HEARTBEAT_SECONDS * 1000) / 10), 'releasing lost jobs', () =>
      releaseLostJobs(deps),
    ),
    every(config.CONSISTENCY_CHECK_INTERVAL * 1000, 'consistency check', () =>
      checkIndexedPoints(deps, stop.signal),
    ),
  ];
  return async () => {
    stop.abort();
    for (const t of timers) clearInterval(t);
    await Promise.allSettled([...running]);
  };
}
