import { JOBS, sendInTransaction } from '@rattgllm/core';
import type { DocumentRecord, IngestorDeps } from '../deps.js';

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
      : await db('documents')
          .where({ status: 'indexed' })
          .where('id', '>', after || '00000000-0000-0000-0000-000000000000')
          .orderBy('id')
          .limit(PAGE)
          .select('id');
    if (page.length === 0) return queued;
    after = page[page.length - 1]!.id;
    for (const { id } of page) {
      await db.transaction(async (trx) => {
        // Only a document still `indexed`: one being worked on writes its points anyway.
        const changed = await trx('documents')
          .where({ id, status: 'indexed' })
          .update({ status: 'pending', progress: 0, error: reason, updated_at: trx.fn.now() });
        if (changed) await sendInTransaction(deps.boss, trx, JOBS.ingest, { documentId: id, force: true });
        queued += changed;
      });
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
    const page = await db<DocumentRecord>('documents')
      .where({ status: 'indexed' })
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .select('id', 'chunk_count');
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
 * Documents shown `processing` (or `waiting` on a retry in hand) whose job has no live worker
 * (killed, host lost): its heartbeat lapsed, or pg-boss already took the job back. They are
 * `pending` again, which is the truth: pg-boss hands the job to the next worker. A `waiting`
 * document whose next attempt is a delayed job of its own (`created`, starting later) stays so.
 * Returns how many were released.
 */
export async function releaseLostJobs(deps: IngestorDeps): Promise<number> {
  const { db } = deps;
  const res = await db.raw(
    `UPDATE documents d
        SET status = 'pending', progress = 0, next_attempt_at = NULL, updated_at = now(),
            error = 'Its worker stopped; waiting for another worker'
      WHERE d.status IN ('processing', 'waiting')
        AND NOT EXISTS (
          SELECT 1 FROM pgboss.job j
           WHERE j.name = :name AND j.singleton_key = d.id::text AND j.state = 'active'
             AND (j.heartbeat_on IS NULL OR j.heartbeat_seconds IS NULL
                  OR j.heartbeat_on + j.heartbeat_seconds * interval '1 second' >= now()))
        AND (d.status = 'processing' OR NOT EXISTS (
          SELECT 1 FROM pgboss.job j
           WHERE j.name = :name AND j.singleton_key = d.id::text AND j.state = 'created'
             AND j.start_after > now()))
      RETURNING d.id`,
    { name: JOBS.ingest },
  );
  const n = (res.rows as unknown[]).length;
  if (n) deps.log.warn({ released: n }, 'documents whose worker stopped are pending again');
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
