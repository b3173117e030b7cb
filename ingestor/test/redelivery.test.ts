import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  chunkPointId,
  createStorage,
  JOBS,
  objectKey,
  sendInTransaction,
  startQueue,
  type Config,
} from '@rattgllm/core';
import { addUser, ingestEnv, LONG_TEXT, waitFor } from './support.js';

/** The configuration as environment variables, for a child process. */
function asEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  // (LOG_LEVEL below is overridden: the test reads the child's "watching" line.)
  for (const [k, v] of Object.entries(config))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') env[k] = String(v);
  env.LOG_LEVEL = 'info';
  return env;
}

describe('a killed worker', () => {
  it.skipIf(!!process.env.OLLAMA_URL)(
    'its job is redelivered to another worker and the retry writes exactly the same points',
    async () => {
      const env = await ingestEnv({ JOB_HEARTBEAT_SECONDS: '10', INGEST_MAX_ATTEMPTS: '3' });
      const owner = await addUser(env.db, 'victim');
      // Slow embeddings, so the first worker is surely in the middle of the job when it dies.
      env.ollama.standin!.batchCostMs = 400;

      // Worker 1: the built ingestor in a process of its own.
      const child = spawn(process.execPath, ['ingestor/dist/main.js'], {
        env: asEnv(env.config),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      await waitFor(
        'worker 1 ready',
        async () =>
          output.includes('watching the drop folder') ||
          (child.exitCode !== null && Promise.reject(new Error(output))),
      );

      // A document and its job, as the gateway writes them.
      const storage = createStorage(env.config);
      const boss = await startQueue(env.config, { work: false, onError: () => {} });
      const id = ((await env.db.raw('select gen_random_uuid() as id')).rows as { id: string }[])[0]!.id;
      const key = objectKey(id, 'long.txt');
      const stored = await storage.put(key, Readable.from([Buffer.from(LONG_TEXT('redelivery', 40))]), {
        contentType: 'text/plain; charset=utf-8',
      });
      await env.db.transaction(async (trx) => {
        await trx('documents').insert({
          id,
          owner_id: owner,
          filename: 'long.txt',
          mime: 'text/plain; charset=utf-8',
          size: stored.size,
          sha256: stored.sha256,
          storage_key: key,
          source: 'upload',
          access: 'org',
        });
        await sendInTransaction(boss, trx, JOBS.ingest, { documentId: id });
      });
      await boss.stop({ graceful: false, close: true });

      await waitFor('worker 1 embedding', async () => {
        const d = await env.db('documents').where({ id }).first();
        return d?.status === 'processing' && env.ollama.standin!.counters.embedCalls > 0;
      });
      child.kill('SIGKILL');
      await once(child, 'exit');
      env.ollama.standin!.batchCostMs = 0;

      // Worker 2 picks the job up once worker 1's heartbeat has lapsed.
      const ingestor = await env.start({ watch: false });
      const done = await waitFor(
        'indexed by worker 2',
        async () => {
          const d = await env.db('documents').where({ id }).first();
          return d?.status === 'indexed' ? d : undefined;
        },
        60_000,
      );
      // Worker 1's job is taken back once its heartbeat lapses, and the document shows `pending`
      // (jobs/heal.ts); then either that job's retry or the reconcile pass's job for the pending
      // document indexes it on worker 2 — whichever runs first, the other finds nothing to do.
      const jobs = await env.db.raw(
        `select retry_count, state, started_on from pgboss.job where name = 'ingest' and data->>'documentId' = ? order by created_on`,
        [id],
      );
      expect(jobs.rows[0].started_on).not.toBeNull(); // worker 1 had it
      expect(jobs.rows.some((j: { state: string }) => j.state === 'completed')).toBe(true);
      // Exactly one set of points, with the ids derived from (document, index, text).
      const chunks = await env.db('chunks').where({ document_id: id }).orderBy('index');
      expect(chunks).toHaveLength(done.chunk_count);
      for (const c of chunks) expect(c.point_id).toBe(chunkPointId(id, c.index, c.text));
      expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(done.chunk_count);
    },
    90_000,
  );
});
