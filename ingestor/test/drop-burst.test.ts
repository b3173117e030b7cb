import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '@rattgllm/core';
import { ingestEnv, waitFor, type IngestEnv } from './support.js';
import { dropConcurrency } from '../src/drop/watcher.js';

/**
 * Seen on main: 5,181 files dropped at once, every event handled in parallel, and 2,767 of them
 * lost to KnexTimeoutError (10 pool connections, 10 s acquire timeout) until the 2-hour
 * reconcile. The watcher now works through a bounded queue: the pool is never exhausted.
 */
const FILES = 5000;
const FOLDERS = 10;

describe('drop folder under a burst', () => {
  let env: IngestEnv;

  beforeAll(async () => {
    // The pool of the report on main (10 connections, 10 s acquire timeout); one ingest at a time
    // leaves the CPU to the registrations.
    env = await ingestEnv({ DATABASE_POOL_MAX: '10', INGEST_CONCURRENCY: '1' });
  });

  it(
    `${FILES} files dropped at once: all registered, none lost, the pool never exhausted`,
    async () => {
      const ingestor = await env.start({ stabilityMs: 200 });
      // The reconcile pass at start would walk the folder while the files arrive (covered by the
      // race in sync.ts); here the watcher alone has to keep up.
      await waitFor('reconcile at start done', async () => {
        const r = await env.db.raw(
          `select count(*)::int as n from pgboss.job where name = '${JOBS.reconcile}' and state = 'completed'`,
        );
        return r.rows[0].n > 0;
      });
      const pool = (
        ingestor.deps.db.client as {
          pool: { numPendingAcquires(): number; numUsed(): number };
        }
      ).pool;
      let maxPending = 0;
      let maxUsed = 0;
      const sampler = setInterval(() => {
        maxPending = Math.max(maxPending, pool.numPendingAcquires());
        maxUsed = Math.max(maxUsed, pool.numUsed());
      }, 20);
      const t0 = Date.now();
      try {
        for (let f = 0; f < FOLDERS; f++)
          await mkdir(join(env.dropDir, `shared/burst-${f}`), { recursive: true });
        // Written as fast as the disk takes them, in slices so the test does not hold 5,000 fds.
        for (let i = 0; i < FILES; i += 250)
          await Promise.all(
            Array.from({ length: Math.min(250, FILES - i) }, (_, k) =>
              writeFile(
                join(env.dropDir, `shared/burst-${(i + k) % FOLDERS}/note-${i + k}.txt`),
                `Burst note ${i + k}: quarterly figures for unit ${i + k}.\n`,
              ),
            ),
          );
        const written = Date.now() - t0;
        // Each registration is a hash, two queries, one PUT to the S3 server and a transaction: a
        // few ms on an idle 2-core machine, many times that when the machine is shared. So the
        // wait fails on a stall (no new row for 2 min: events lost or stuck), not on slowness.
        const count = async () =>
          Number(
            (await env.db('documents').where({ source: 'drop' }).count<{ n: string }[]>({ n: '*' }))[0]?.n,
          );
        let registered = 0;
        let progressAt = Date.now();
        while (registered < FILES) {
          await new Promise((r) => setTimeout(r, 500));
          const n = await count();
          if (n > registered) progressAt = Date.now();
          registered = n;
          if (Date.now() - progressAt > 120_000) {
            const s = ingestor.watcher!.status();
            throw new Error(`registration stalled at ${n} of ${FILES} (queue ${JSON.stringify(s)})`);
          }
        }
        await ingestor.watcher!.idle();
        const status = ingestor.watcher!.status();
        const elapsed = Date.now() - t0;
        console.info(
          `drop burst: ${FILES} files written in ${written} ms, all registered after ${elapsed} ms; ` +
            `queue concurrency ${dropConcurrency(env.config)}, max running ${status.maxRunning}, ` +
            `pool max used ${maxUsed}/${env.config.DATABASE_POOL_MAX}, max waiting acquires ${maxPending}; ` +
            `failures ${status.failures}, replayed ${status.replayed}, last error ${status.lastError}`,
        );
        expect(registered).toBe(FILES);
        const stored = await env
          .db('documents')
          .where({ source: 'drop' })
          .whereNot({ storage_key: '' })
          .count<{ n: string }[]>({ n: '*' });
        const lost = FILES - Number(stored[0]?.n);
        expect(lost).toBe(0);
        // Not one change needed a retry (a KnexTimeoutError would count here), none was given up.
        expect(status.failures).toBe(0);
        expect(status.gaveUp).toBe(0);
        expect(status.overflowed).toBe(false);
        expect(status.maxRunning).toBeLessThanOrEqual(dropConcurrency(env.config));
        // Each registration queued its ingest job in the same transaction.
        const jobs = await env.db.raw(`select count(*)::int as n from pgboss.job where name = 'ingest'`);
        expect(jobs.rows[0].n).toBeGreaterThanOrEqual(FILES);
      } finally {
        clearInterval(sampler);
        await ingestor.stop();
      }
    },
    // Longer than the suite's default: about 1 min at load 25 on 2 shared cores; the stall check
    // above is what fails fast.
    300_000,
  );
});
