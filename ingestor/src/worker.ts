import {
  JOBS,
  type DeleteJob,
  type IngestJob,
  type JobResult,
  type JobWithMetadata,
  type ReindexJob,
} from '@rattgllm/core';
import type { IngestorDeps } from './deps.js';
import { errorMessage, isPermanent } from './errors.js';
import { ingestDocument } from './jobs/ingest.js';
import { removeDocument } from './jobs/remove.js';
import { syncAccess } from './jobs/access.js';
import { reconcile } from './reconcile.js';

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
 * Takes `ingest`, `delete` and `reindex` jobs from the Postgres queue. Retryable failures (a
 * service down, 5xx, timeouts) are thrown back to pg-boss, which retries with backoff; permanent
 * ones (corrupt file, model missing) and the last try mark the document `failed` with a message
 * a person can act on.
 */
export class IngestWorker {
  state: WorkerState = 'idle';
  /** Handlers running now; stop() waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Aborted when stop() gives up waiting: the jobs in hand are handed back. */
  private readonly handBack = new AbortController();

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
    const one = { ...common, localConcurrency: 1 } as const;
    await boss.work<ReindexJob, void, typeof one>(JOBS.reindex, one, ([job]) => {
      const data = job!.data;
      const signal = AbortSignal.any([job!.signal, this.handBack.signal]);
      if (data.all)
        return this.track(
          reconcile(this.deps, { root: this.options.dropRoot, force: Boolean(data.force), signal }),
        );
      if (data.documentId) return this.track(syncAccess(this.deps, data.documentId));
      return Promise.resolve();
    });
    this.state = 'running';
  }

  private track(work: Promise<unknown>): Promise<void> {
    const p = work.then(() => undefined);
    this.inFlight.add(p);
    void p.catch(() => {}).finally(() => this.inFlight.delete(p));
    return p;
  }

  private async runIngest(job: JobWithMetadata<IngestJob>): Promise<void> {
    const { db, log } = this.deps;
    const { documentId, force } = job.data;
    const signal = AbortSignal.any([job.signal, this.handBack.signal]);
    const live = () => db('documents').where({ id: documentId }).whereNot({ status: 'deleted' });
    try {
      await ingestDocument(this.deps, documentId, { force: Boolean(force), signal });
    } catch (err) {
      const message = errorMessage(err);
      if (this.handBack.signal.aborted) {
        // Handed back on shutdown: pending again; pg-boss gives the job to the next worker.
        await live().update({ status: 'pending', progress: 0 });
        throw err;
      }
      if (isPermanent(err) || job.retryCount >= job.retryLimit) {
        log.warn({ documentId, err, attempt: job.retryCount + 1 }, 'document failed');
        await live().update({ status: 'failed', progress: 0, error: message, updated_at: db.fn.now() });
        return; // settled: another try would give the same answer
      }
      log.info({ documentId, err: message, attempt: job.retryCount + 1 }, 'document will be retried');
      await live().update({
        status: 'pending',
        progress: 0,
        error: `Attempt ${job.retryCount + 1} of ${job.retryLimit + 1} failed (${message}); retrying`,
        updated_at: db.fn.now(),
      });
      throw err;
    }
  }

  /** Take no new jobs, let the jobs in hand finish (or hand them back after the timeout), stop. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const { boss } = this.deps;
    for (const name of Object.values(JOBS)) await boss.offWork(name);
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
