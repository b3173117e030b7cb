import { JOBS, type DeleteJob, type IngestJob, type JobWithMetadata, type ReindexJob } from '@rattgllm/core';
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
  pollingIntervalSeconds?: number;
}

/**
 * Takes `ingest`, `delete` and `reindex` jobs from the Postgres queue. Retryable failures (a
 * service down, 5xx, timeouts) are thrown back to pg-boss, which retries with backoff; permanent
 * ones (corrupt file, model missing) and the last try mark the document `failed` with a message
 * a person can act on.
 */
export class IngestWorker {
  state: WorkerState = 'idle';

  constructor(
    private readonly deps: IngestorDeps,
    private readonly options: WorkerOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker is ${this.state}`);
    const { boss, config } = this.deps;
    const common = {
      localConcurrency: config.INGEST_CONCURRENCY,
      pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 0.5,
      includeMetadata: true,
    } as const;
    await boss.work<IngestJob, void, typeof common>(JOBS.ingest, common, ([job]) => this.runIngest(job!));
    await boss.work<DeleteJob, void, typeof common>(JOBS.delete, common, async ([job]) => {
      await removeDocument(this.deps, job!.data.documentId);
    });
    await boss.work<ReindexJob, void, typeof common>(
      JOBS.reindex,
      { ...common, localConcurrency: 1 },
      async ([job]) => {
        const data = job!.data;
        if (data.all)
          await reconcile(this.deps, {
            root: this.options.dropRoot,
            force: Boolean(data.force),
            signal: job!.signal,
          });
        else if (data.documentId) await syncAccess(this.deps, data.documentId);
      },
    );
    this.state = 'running';
  }

  private async runIngest(job: JobWithMetadata<IngestJob>): Promise<void> {
    const { db, log } = this.deps;
    const { documentId, force } = job.data;
    try {
      await ingestDocument(this.deps, documentId, { force: Boolean(force), signal: job.signal });
    } catch (err) {
      const lastTry = job.retryCount >= job.retryLimit;
      const message = errorMessage(err);
      if (job.signal.aborted && this.state === 'stopping') {
        // Handed back on shutdown: back to pending; pg-boss gives the job to the next worker.
        await db('documents')
          .where({ id: documentId })
          .whereNot({ status: 'deleted' })
          .update({ status: 'pending', progress: 0 });
        throw err;
      }
      if (isPermanent(err) || lastTry) {
        log.warn({ documentId, err, attempt: job.retryCount + 1 }, 'document failed');
        await db('documents')
          .where({ id: documentId })
          .whereNot({ status: 'deleted' })
          .update({ status: 'failed', progress: 0, error: message, updated_at: db.fn.now() });
        return; // settled: no retry will change the answer
      }
      log.info({ documentId, err: message, attempt: job.retryCount + 1 }, 'document will be retried');
      await db('documents')
        .where({ id: documentId })
        .whereNot({ status: 'deleted' })
        .update({
          status: 'pending',
          progress: 0,
          error: `Attempt ${job.retryCount + 1} of ${job.retryLimit + 1} failed (${message}); retrying`,
          updated_at: db.fn.now(),
        });
      throw err;
    }
  }

  /** Let the jobs in hand finish (or hand them back after the timeout) and stop taking new ones. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    await this.deps.boss.stop({ graceful: true, close: true, timeout: this.options.stopTimeoutMs ?? 20_000 });
    this.state = 'stopped';
  }
}
