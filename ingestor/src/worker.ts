import { withBytesInFlight } from './bytes-in-flight.js';
import {
  JOBS,
  LEGACY_REINDEX_QUEUE,
  RetryHorizonExceededError,
  backoffDelay,
  classifyError,
  retryPolicy,
  scheduleRetry,
  setStatus,
  type DeleteJob,
  type IngestJob,
  type JobResult,
  type JobWithMetadata,
  type AccessJob,
  type DocumentRow,
  type LegacyReindexJob,
  type ReconcileJob,
  type ReembedJob,
} from '@rattgllm/core';
import type { IngestorDeps } from './deps.js';
import { errorMessage, faultReason } from './errors.js';
import { ingestDocument } from './jobs/ingest.js';
import { removeDocument } from './jobs/remove.js';
import { syncAccess } from './jobs/access.js';
import { reconcile } from './jobs/reconcile.js';
import { activeDeps } from './generations/runtime.js';
import { reembedJob } from './generations/reembed.js';

export type WorkerState = 'idle' | 'running' | 'stopping' | 'stopped';

export interface WorkerOptions {
  /** The drop folder (reconcile walks it); omit when there is none. */
  dropRoot?: string;
  /** How long stop() lets the jobs in hand finish before handing them back (ms). */
  stopTimeoutMs?: number;
  /** The poll when LISTEN/NOTIFY is unavailable (s, ≥ 0.5). */
  pollingIntervalSeconds?: number;
}

/** Jobs one fetch takes at most: a fetcher waits for its whole batch before it fetches again. */
const MAX_FETCH_BATCH = 8;

/**
 * How INGEST_CONCURRENCY slots are fetched: `fetchers` pg-boss workers, each taking up to
 * `batchSize` jobs per round trip and running them side by side. Several small batches rather
 * than one big one, so one slow document holds back only the few jobs fetched with it.
 */
export function fetchPlan(concurrency: number): { fetchers: number; batchSize: number } {
  const fetchers = Math.ceil(concurrency / MAX_FETCH_BATCH);
  return { fetchers, batchSize: Math.ceil(concurrency / fetchers) };
}

/**
 * Jobs keep their worker slot at most this long retrying in place; a longer outage is handed to
 * a delayed job (under pg-boss's 30-minute expiry, and so a restart does not lose the wait).
 */
const IN_JOB_RETRY_MS = 10 * 60_000;

/**
 * Takes the jobs of every queue in core's JOBS (ingest, delete, document-access, reconcile). Transient failures (a
 * service down, 5xx, timeouts; core's classifyError) are retried: embedding batches and index
 * writes in place, anything else by a delayed job, with capped exponential backoff and jitter for
 * RETRY_HORIZON; meanwhile the document is `waiting`. Permanent ones (corrupt file, model
 * missing) and an outage beyond the horizon mark it `failed` with a message a person can act on.
 */
export class IngestWorker {
  state: WorkerState = 'idle';
  /** Handlers running now; stop() waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Aborted when stop() gives up waiting: the jobs in hand are handed back. */
  private readonly handBack = new AbortController();
  /** Old queue names this worker drains besides JOBS (see LEGACY_REINDEX_QUEUE). */
  private readonly legacyQueues: string[] = [];

  /** How many jobs are in hand right now. */
  get inHand(): number {
    return this.inFlight.size;
  }

  constructor(
    private readonly deps: IngestorDeps,
    private readonly options: WorkerOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker is ${this.state}`);
    const { boss, config } = this.deps;
    const { fetchers, batchSize } = fetchPlan(config.INGEST_CONCURRENCY);
    const poll = this.options.pollingIntervalSeconds ?? 0.5;
    const common = {
      includeMetadata: true,
      // Inserts wake the workers at once (LISTEN/NOTIFY, see startQueue); the poll is the
      // backstop for what no insert announces: retries coming due, jobs handed back by a worker
      // that died. Without NOTIFY (e.g. through PgBouncer) the base poll applies.
      pollingIntervalSeconds: poll,
      notifyPollingIntervalSeconds: Math.max(2, poll),
      // A full batch means more work is waiting: fetch again at once instead of sleeping (with
      // one-job batches, pg-boss's cached count of ready jobs says so instead).
      burstWhenBatchFull: true,
      burstWhenReadyExceeds: 1,
    } as const;
    const many = { ...common, localConcurrency: fetchers, batchSize, perJobResults: true } as const;
    await boss.work<IngestJob, JobResult[], typeof many>(JOBS.ingest, many, (jobs) =>
      settleEach(jobs, (job) => this.track(this.runIngest(job))),
    );
    await boss.work<DeleteJob, JobResult[], typeof many>(JOBS.delete, many, (jobs) =>
      settleEach(jobs, (job) => this.track(removeDocument(this.deps, job.data.documentId))),
    );
    await boss.work<ReembedJob, JobResult[], typeof many>(JOBS.reembed, many, (jobs) =>
      settleEach(jobs, (job) =>
        this.track(reembedJob(this.deps, job.data, AbortSignal.any([job.signal, this.handBack.signal]))),
      ),
    );
    const one = { ...common, localConcurrency: 1 } as const;
    await boss.work<AccessJob, void, typeof one>(JOBS.access, one, ([job]) =>
      this.track(syncAccess(this.deps, job!.data.documentId)),
    );
    await boss.work<ReconcileJob, void, typeof one>(JOBS.reconcile, one, ([job]) =>
      this.track(this.runReconcile(job!, Boolean(job!.data.force))),
    );
    // Jobs an older version queued on the single `reindex` queue (see LEGACY_REINDEX_QUEUE):
    // drained here, each handed to the job it meant. A new installation never has that queue.
    if (await boss.getQueue(LEGACY_REINDEX_QUEUE)) {
      this.legacyQueues.push(LEGACY_REINDEX_QUEUE);
      await boss.work<LegacyReindexJob, void, typeof one>(LEGACY_REINDEX_QUEUE, one, ([job]) => {
        const data = job!.data;
        if (data.all) return this.track(this.runReconcile(job!, Boolean(data.force)));
        if (data.documentId) return this.track(syncAccess(this.deps, data.documentId));
        return Promise.resolve();
      });
    }
    this.state = 'running';
  }

  private runReconcile(job: JobWithMetadata<unknown>, force: boolean): Promise<unknown> {
    const signal = AbortSignal.any([job.signal, this.handBack.signal]);
    return reconcile(activeDeps(this.deps), { root: this.options.dropRoot, force, signal });
  }

  private track(work: Promise<unknown>): Promise<void> {
    const p = work.then(() => undefined);
    this.inFlight.add(p);
    void p.catch(() => {}).finally(() => this.inFlight.delete(p));
    return p;
  }

  private async runIngest(job: JobWithMetadata<IngestJob>): Promise<void> {
    const { db, log, config } = this.deps;
    const { documentId, force } = job.data;
    const signal = AbortSignal.any([job.signal, this.handBack.signal]);
    const policy = retryPolicy(config);
    // The horizon runs from the first failure, across the delayed jobs that continue it.
    const since = job.data.retry?.since ?? Date.now();
    const inJob = Math.min(IN_JOB_RETRY_MS, Math.max(0, policy.horizonMs - (Date.now() - since)));
    try {
      // Waits for room in INGEST_MAX_BYTES_IN_FLIGHT before the file is read (bytes-in-flight.ts);
      // the generation search uses now (its own model while a new one is re-embedded).
      // The row read for the size is the run's own when the budget had room at once (small
      // files, nearly always): one read of it per document, not two.
      let row: DocumentRow | undefined;
      const readSize = async () => (row = await this.deps.writeBatcher.read(db, documentId))?.size;
      await withBytesInFlight(this.deps.bytesInFlight, readSize, signal, (atOnce) =>
        ingestDocument(activeDeps(this.deps), documentId, {
          force: Boolean(force),
          signal,
          retry: { ...policy, horizonMs: inJob + (Date.now() - since), since },
          ...(atOnce ? { row } : {}),
        }),
      );
    } catch (err) {
      if (signal.aborted) {
        // Handed back on shutdown (or expired): pending again; pg-boss gives the job to the next worker.
        await setStatus(db, documentId, { status: 'pending', progress: 0, next_attempt_at: null });
        throw err;
      }
      // The in-job retries ran out of their slice of the horizon: judge the fault itself.
      const fault = err instanceof RetryHorizonExceededError ? err.cause : err;
      const cls = classifyError(fault);
      const attempt = (job.data.retry?.attempt ?? 0) + 1;
      const delayMs = backoffDelay(policy, attempt, cls.retryAfterMs);
      const elapsed = Date.now() - since;
      if (!cls.retryable || elapsed + delayMs > policy.horizonMs) {
        const message = cls.retryable
          ? `${faultReason(fault)} — still failing after ${Math.round(elapsed / 1000)}s (RETRY_HORIZON); ` +
            'once the service is back, reindex the document'
          : errorMessage(fault);
        log.warn({ documentId, err: fault, attempt }, 'document failed');
        await setStatus(db, documentId, {
          status: 'failed',
          progress: 0,
          error: message,
          next_attempt_at: null,
        });
        return; // settled: a person must act
      }
      const nextAttemptAt = new Date(Date.now() + delayMs);
      log.info({ documentId, err: errorMessage(fault), attempt, nextAttemptAt }, 'document will be retried');
      await scheduleRetry(
        db,
        this.deps.boss,
        { documentId, ...(force ? { force } : {}), retry: { attempt, since } },
        nextAttemptAt,
        faultReason(fault),
      );
    }
  }

  /** Take no new jobs, let the jobs in hand finish (or hand them back after the timeout), stop. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const { boss } = this.deps;
    for (const name of [...Object.values(JOBS), ...this.legacyQueues]) await boss.offWork(name);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs ?? 20_000);
    });
    const outcome = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => 'done' as const),
      timeout,
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      // Their handlers abort and fail this attempt, so pg-boss gives the jobs to another worker.
      this.handBack.abort(new Error('worker stopping'));
      await Promise.allSettled([...this.inFlight]);
    }
    await boss.stop({ graceful: false, close: true });
    this.state = 'stopped';
  }
}

/**
 * Run a fetched batch side by side and settle each job on its own: one document's failure is
 * retried alone, the others complete.
 */
async function settleEach<T>(
  jobs: JobWithMetadata<T>[],
  run: (job: JobWithMetadata<T>) => Promise<unknown>,
): Promise<JobResult[]> {
  return Promise.all(
    jobs.map((job) =>
      run(job).then(
        (): JobResult => ({ id: job.id, status: 'completed' }),
        (err: unknown): JobResult => ({ id: job.id, status: 'failed', output: failureOutput(err) }),
      ),
    ),
  );
}

/** What pg-boss stores as a failed attempt's output (as it does for a thrown error). */
function failureOutput(err: unknown): object {
  return err instanceof Error ? { name: err.name, message: err.message } : { message: String(err) };
}
