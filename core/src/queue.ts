import { PgBoss, fromKnex } from 'pg-boss';
import type { Knex } from 'knex';
import type { Config } from './config.js';

export { PgBoss };
export type { JobResult, JobWithMetadata } from 'pg-boss';

/**
 * The durable jobs of rattgllm, in Postgres (pg-boss, schema `pgboss`): one queue per kind of
 * job, each with its payload type (JobData). Producers (gateway, ingestor) send with
 * `sendInTransaction`, which the types tie to the queue's payload; the ingestor's worker drains them.
 */
export const JOBS = {
  /** (Re-)index one document: parse, chunk, embed, upsert. `force` re-embeds unchanged content. */
  ingest: 'ingest',
  /** Remove a deleted document's vectors, chunks, object and row. */
  delete: 'delete',
  /** Rewrite one document's readers (principals) in the vector index, no re-embedding. */
  access: 'document-access',
  /** The reconcile pass over the drop folder, Postgres, storage and the index. */
  reconcile: 'reconcile',
  /** Embed one document into a shadow collection with a new embedding model (index generations). */
  reembed: 'reembed',
} as const;
export type JobName = (typeof JOBS)[keyof typeof JOBS];

export interface IngestJob {
  documentId: string;
  force?: boolean;
  /** Set on a retry the worker scheduled itself: which one, and when the first failure was (ms). */
  retry?: { attempt: number; since: number };
}
export interface DeleteJob {
  documentId: string;
}
export interface AccessJob {
  documentId: string;
}
export interface ReconcileJob {
  /** Re-embed unchanged documents too. */
  force?: boolean;
}

export interface ReembedJob {
  documentId: string;
  /** The generation's collection the document is embedded into. */
  collection: string;
}

/** The payload each queue carries. */
export interface JobData {
  [JOBS.ingest]: IngestJob;
  [JOBS.delete]: DeleteJob;
  [JOBS.access]: AccessJob;
  [JOBS.reconcile]: ReconcileJob;
  [JOBS.reembed]: ReembedJob;
}

/**
 * Before the split, one `reindex` queue carried both an access change (`{ documentId }`) and the
 * reconcile pass (`{ all: true, force? }`). Nothing sends to it any more; jobs queued there by an
 * older version (before an upgrade, or retries of them) are still drained by the ingestor's
 * worker (worker.ts), which hands each to the job it meant. The queue can be deleted once empty.
 */
export const LEGACY_REINDEX_QUEUE = 'reindex';
export interface LegacyReindexJob {
  documentId?: string;
  all?: boolean;
  force?: boolean;
}

/**
 * A pg-boss instance for this process. `work: false` (the gateway) only sends jobs; the ingestor
 * also supervises and runs the schedules.
 */
export async function startQueue(
  config: Pick<Config, 'DATABASE_URL' | 'INGEST_MAX_ATTEMPTS' | 'JOB_HEARTBEAT_SECONDS'>,
  options: { work: boolean; onError: (err: Error) => void },
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: config.DATABASE_URL,
    schema: 'pgboss',
    max: 4,
    supervise: options.work,
    schedule: options.work,
    application_name: options.work ? 'rattgllm-ingestor' : 'rattgllm-gateway',
    // A worker learns of a new job from the NOTIFY its insert sends (in the sender's transaction,
    // so on commit), not from its next poll: a queued document starts at once. Only workers
    // listen; senders just notify. Through a transaction-mode PgBouncer pg-boss falls back to polling.
    useListenNotify: options.work,
    // Look for jobs with lapsed heartbeats a few times per heartbeat period (pg-boss checks a
    // queue's heartbeats in its monitor pass, so both intervals matter; the default is 60 s).
    superviseIntervalSeconds: Math.max(1, Math.floor(config.JOB_HEARTBEAT_SECONDS / 5)),
    monitorIntervalSeconds: Math.max(1, Math.floor(config.JOB_HEARTBEAT_SECONDS / 5)),
  });
  boss.on('error', options.onError);
  await boss.start();
  for (const name of Object.values(JOBS)) {
    const existing = await boss.getQueue(name);
    if (existing) {
      // Queues made before workers were woken by NOTIFY: switch it on (idempotent, and harmless
      // when two processes do it at once).
      if (!existing.notify) await boss.updateQueue(name, { notify: true });
      continue;
    }
    await boss
      .createQueue(name, {
        // stately + singletonKey = at most one queued and one active job per document, so a
        // burst of triggers for one document makes one job, while a change that arrives during
        // processing still gets its own run afterwards.
        policy: 'stately',
        retryLimit: config.INGEST_MAX_ATTEMPTS - 1,
        retryDelay: 5,
        retryBackoff: true,
        retryDelayMax: 300,
        expireInSeconds: 30 * 60,
        // A worker that dies (kill -9, OOM, lost host) stops sending heartbeats; its job is
        // handed to another worker after JOB_HEARTBEAT_SECONDS instead of the 30-minute expiry.
        heartbeatSeconds: config.JOB_HEARTBEAT_SECONDS,
        notify: true,
      })
      // Two processes may create the same queue at once; the second one's error is harmless.
      .catch(async (err: unknown) => {
        if (!(await boss.getQueue(name))) throw err;
      });
  }
  return boss;
}

/** Enqueue inside the caller's knex transaction, so the job exists exactly when the row does. */
export function sendInTransaction<N extends JobName>(
  boss: PgBoss,
  trx: Knex.Transaction | Knex,
  name: N,
  data: JobData[N],
  options: { startAfter?: Date } = {},
): Promise<string | null> {
  // One queued job per document (per pass, for reconcile): see `policy: 'stately'` above.
  const key = 'documentId' in data ? data.documentId : 'all';
  return boss.send(name, data, { singletonKey: key, db: fromKnex(trx), ...options });
}

/** sendInTransaction of several jobs in one statement (pg-boss insert: same queue policy and keys). */
export async function sendManyInTransaction<N extends JobName>(
  boss: PgBoss,
  trx: Knex.Transaction | Knex,
  name: N,
  data: JobData[N][],
): Promise<void> {
  if (!data.length) return;
  const jobs = data.map((d) => ({ data: d, singletonKey: 'documentId' in d ? d.documentId : 'all' }));
  await boss.insert(name, jobs, { db: fromKnex(trx) });
}

/**
 * Cancel every unsettled `ingest` job of one document (queued, waiting to retry, or running), in
 * the caller's transaction. A running job's worker learns of it at its next heartbeat, which no
 * longer finds the claim, and pg-boss aborts that job's signal: the run stops where it is.
 * Returns how many jobs were cancelled.
 */
export async function cancelIngestJobs(
  boss: PgBoss,
  trx: Knex.Transaction | Knex,
  documentId: string,
): Promise<number> {
  const db = fromKnex(trx);
  const jobs = await boss.findJobs(JOBS.ingest, { key: documentId, db, limit: 100_000 });
  const open = jobs.filter((j) => j.state === 'created' || j.state === 'retry' || j.state === 'active');
  if (!open.length) return 0;
  await boss.cancel(
    JOBS.ingest,
    open.map((j) => j.id),
    { db },
  );
  return open.length;
}
