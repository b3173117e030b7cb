import type { Knex } from '../db/knex.js';
import { JOBS } from '../queue.js';

/**
 * Jobs whose worker is gone, part of the documents lifecycle (lifecycle.ts): found from pg-boss's
 * own job rows, by the ingestor's healing timer (ingestor/src/jobs/heal.ts).
 */

type Db = Knex | Knex.Transaction;

/** What a document taken back from a dead worker says while it waits for the next one. */
export const LOST_WORKER_ERROR = 'Its worker stopped; waiting for another worker';

/**
 * Documents shown `processing` (or `waiting` on a retry in hand) whose ingest job has no live
 * worker (killed, host lost): its heartbeat lapsed, or pg-boss already took the job back. They
 * are `pending` again, which is the truth: pg-boss hands the job to the next worker. A `waiting`
 * document whose next attempt is a delayed job of its own (scheduleRetry's, `created`) stays so,
 * also once that job is due and waits for the next fetch (up to a poll): it is not lost.
 * Returns the ids released.
 */
export async function releaseLostJobs(db: Db): Promise<string[]> {
  const res = await db.raw(
    `UPDATE documents d
        SET status = 'pending', progress = 0, next_attempt_at = NULL, updated_at = now(),
            error = :lost
      WHERE d.status IN ('processing', 'waiting')
        AND NOT EXISTS (
          SELECT 1 FROM pgboss.job j
           WHERE j.name = :name AND j.singleton_key = d.id::text AND j.state = 'active'
             AND (j.heartbeat_on IS NULL OR j.heartbeat_seconds IS NULL
                  OR j.heartbeat_on + j.heartbeat_seconds * interval '1 second' >= now()))
        AND (d.status = 'processing' OR NOT EXISTS (
          SELECT 1 FROM pgboss.job j
           WHERE j.name = :name AND j.singleton_key = d.id::text AND j.state = 'created'
             AND (j.start_after > now() OR j.data->'retry' IS NOT NULL)))
      RETURNING d.id`,
    { name: JOBS.ingest, lost: LOST_WORKER_ERROR },
  );
  return (res.rows as { id: string }[]).map((r) => r.id);
}

/**
 * Documents taken back from a dead worker (`pending`, LOST_WORKER_ERROR) that no job will take
 * again: their worker died on every attempt pg-boss allows (INGEST_MAX_ATTEMPTS), e.g. a file
 * that exhausts the ingestor's memory. Left `pending`, such a document would claim a worker is
 * coming for it; it is `failed`, saying so, and the reconcile pass retries it like any failure.
 * Returns the ids failed.
 */
export async function failAbandoned(db: Db): Promise<string[]> {
  const res = await db.raw(
    `UPDATE documents d
        SET status = 'failed', progress = 0, next_attempt_at = NULL, updated_at = now(),
            error = :abandoned
      WHERE d.status = 'pending' AND d.error = :lost
        AND NOT EXISTS (
          SELECT 1 FROM pgboss.job j
           WHERE j.name = :name AND j.singleton_key = d.id::text
             AND j.state IN ('created', 'retry', 'active'))
      RETURNING d.id`,
    { name: JOBS.ingest, lost: LOST_WORKER_ERROR, abandoned: ABANDONED_ERROR },
  );
  return (res.rows as { id: string }[]).map((r) => r.id);
}

/** What such a document says. */
export const ABANDONED_ERROR =
  'Its worker stopped on every attempt (the file may be too large or malformed to process); ' +
  'check the file, then re-index it to try again';
