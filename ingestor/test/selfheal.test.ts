import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createStorage,
  encodeQuery,
  startQueue,
  type Config,
  type DocumentRow,
  type Knex,
} from '@rattgllm/core';
import type { Ingestor } from '../src/main.js';
import { addUser, ingestEnv, LONG_TEXT, uploadDocument, waitFor } from './support.js';

/** Every status the `document_status` channel announced, with when (ms since the epoch). */
async function recordStatuses(db: Knex) {
  const events: { id: string; status: string; at: number; error: string | null }[] = [];
  const conn = (await db.client.acquireConnection()) as {
    query(sql: string): Promise<unknown>;
    on(event: 'notification', fn: (msg: { payload?: string }) => void): void;
  };
  conn.on('notification', (msg) => {
    const e = JSON.parse(msg.payload ?? '{}') as { id: string; status: string; error: string | null };
    events.push({ id: e.id, status: e.status, error: e.error, at: Date.now() });
  });
  await conn.query('LISTEN document_status');
  return {
    events,
    async stop() {
      await conn.query('UNLISTEN document_status');
      await db.client.releaseConnection(conn);
    },
  };
}

/** The configuration as environment variables, for a child process. */
function asEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [k, v] of Object.entries(config))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') env[k] = String(v);
  env.LOG_LEVEL = 'info';
  return env;
}

/** Whether the document's own words find it in a hybrid search (as the gateway searches). */
async function searchable(ingestor: Ingestor, doc: DocumentRow, word: string): Promise<boolean> {
  const hits = await ingestor.deps.index.hybridSearch({
    dense: await ingestor.deps.embedder.embedQuery(word),
    sparse: encodeQuery(word),
    principals: ['org'],
    limit: 50,
    documentIds: [doc.id],
  });
  return hits.length === doc.chunk_count;
}

describe('self-healing', () => {
  const running: Ingestor[] = [];
  afterEach(async () => {
    for (const i of running.splice(0)) await i.stop();
  });

  // Runs against a real Qdrant too: it removes its own collection through Qdrant's public API.
  it('collection deleted mid-run: re-created, every document searchable again, no restart', async () => {
    // The consistency check is set far off: the repair on finding the collection missing must do it alone.
    const env = await ingestEnv({ CONSISTENCY_CHECK_INTERVAL: '1h' });
    const owner = await addUser(env.db, 'healer');
    const ingestor = await env.start({ watch: false });
    running.push(ingestor);
    const words = Array.from({ length: 12 }, (_, i) => `topic${i}x`);
    const upload = (i: number) =>
      uploadDocument(ingestor, {
        ownerId: owner,
        filename: `doc${i}.txt`,
        content: LONG_TEXT(words[i]!, 4),
        access: 'org',
      });
    const first = await Promise.all([0, 1, 2, 3, 4, 5].map(upload));
    const indexed = (ids: string[]) =>
      waitFor(
        'all indexed',
        async () => {
          const rows = await env.db<DocumentRow>('documents').whereIn('id', ids);
          return rows.every((r) => r.status === 'indexed') ? rows : undefined;
        },
        60_000,
      );
    await indexed(first);

    // Qdrant loses the collection while more documents arrive.
    const auth = env.qdrant.env.QDRANT_API_KEY ? { 'api-key': env.qdrant.env.QDRANT_API_KEY } : {};
    const lostAt = Date.now();
    const del = await fetch(`${env.qdrant.url}/collections/${env.config.QDRANT_COLLECTION}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(del.ok).toBe(true);
    const second = await Promise.all([6, 7, 8, 9, 10, 11].map(upload));
    const all = [...first, ...second];

    const healed = await waitFor(
      'every document searchable again',
      async () => {
        const rows = await env.db<DocumentRow>('documents').whereIn('id', all).orderBy('filename');
        if (!rows.every((r) => r.status === 'indexed')) return undefined;
        const ok = await Promise.all(
          rows.map((r) => searchable(ingestor, r, words[Number(r.filename.slice(3, -4))]!)),
        );
        return ok.every(Boolean) ? rows : undefined;
      },
      60_000,
    );
    const recoveryMs = Date.now() - lostAt;
    const lost = healed.filter((r) => r.chunk_count === 0).length;
    console.info(`collection deleted: ${all.length} documents, recovered in ${recoveryMs} ms, lost ${lost}`);
    expect(lost).toBe(0);
    expect(healed).toHaveLength(12);
  }, 90_000);

  // Runs against a real Qdrant too: the consistency check finds a collection lost while idle.
  it('collection lost while idle: the consistency check re-creates it and re-queues', async () => {
    const env = await ingestEnv({ CONSISTENCY_CHECK_INTERVAL: '1s' });
    const owner = await addUser(env.db, 'idle');
    const ingestor = await env.start({ watch: false });
    running.push(ingestor);
    const ids = await Promise.all(
      [0, 1, 2].map((i) =>
        uploadDocument(ingestor, {
          ownerId: owner,
          filename: `i${i}.txt`,
          content: LONG_TEXT(`idle${i}q`, 3),
          access: 'org',
        }),
      ),
    );
    const rows = await waitFor(
      'indexed',
      async () => {
        const r = await env.db<DocumentRow>('documents').whereIn('id', ids);
        return r.every((d) => d.status === 'indexed') ? r : undefined;
      },
      30_000,
    );
    const versions = new Map(rows.map((r) => [r.id, r.version]));
    const auth = env.qdrant.env.QDRANT_API_KEY ? { 'api-key': env.qdrant.env.QDRANT_API_KEY } : {};
    await fetch(`${env.qdrant.url}/collections/${env.config.QDRANT_COLLECTION}`, {
      method: 'DELETE',
      headers: auth,
    });
    await waitFor(
      're-indexed and searchable',
      async () => {
        const now = await env.db<DocumentRow>('documents').whereIn('id', ids);
        if (!now.every((d) => d.status === 'indexed' && d.version > versions.get(d.id)!)) return false;
        const ok = await Promise.all(now.map((d) => searchable(ingestor, d, `idle${d.filename[1]}q`)));
        return ok.every(Boolean);
      },
      30_000,
    );
  }, 60_000);

  /** The case: the embedder unreachable for two minutes during an ingest. */
  const OUTAGE_MS = 120_000;
  it.skipIf(!!process.env.OLLAMA_URL)(
    'embedder down during a 30-document ingest: down 2 min, default backoff: all indexed within a minute of recovery, none ever failed',
    async () => {
      // The defaults (RETRY_BASE_DELAY 2 s doubling up to RETRY_MAX_DELAY 30 s), not a test setting.
      const env = await ingestEnv({});
      const owner = await addUser(env.db, 'patient');
      const ingestor = await env.start({ watch: false });
      running.push(ingestor);
      const record = await recordStatuses(env.db);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 30; i++)
          ids.push(
            await uploadDocument(ingestor, {
              ownerId: owner,
              filename: `o${i}.txt`,
              content: LONG_TEXT(`outage${i}`, 4),
              access: 'org',
            }),
          );
        // Down while the first documents are being embedded.
        await waitFor('ingest under way', async () => record.events.some((e) => e.status === 'processing'));
        await env.ollama.standin!.setDown(true);
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        const waiting = await env.db('documents').whereIn('id', ids).where({ status: 'waiting' });
        expect(waiting.length).toBeGreaterThan(0);
        expect(waiting[0].next_attempt_at).toBeInstanceOf(Date);
        expect(waiting[0].error).toMatch(/embedding service \(Ollama\) is not answering/);
        expect(waiting[0].error).not.toContain(env.ollama.url); // no internal address in what users see
        await env.ollama.standin!.setDown(false);
        const recovered = Date.now();
        await waitFor(
          'all 30 indexed',
          async () => {
            const r = await env
              .db('documents')
              .whereIn('id', ids)
              .where({ status: 'indexed' })
              .count({ n: '*' });
            return Number(r[0]!.n) === 30;
          },
          60_000,
        );
        const recoveryMs = Date.now() - recovered;
        const everFailed = new Set(record.events.filter((e) => e.status === 'failed').map((e) => e.id));
        const lost =
          30 -
          Number(
            (await env.db('documents').whereIn('id', ids).where({ status: 'indexed' }).count({ n: '*' }))[0]!
              .n,
          );
        console.info(
          `embedder down ${OUTAGE_MS / 1000} s: 30 documents, all indexed ${recoveryMs} ms after recovery, ever failed ${everFailed.size}, lost ${lost}`,
        );
        expect(everFailed.size).toBe(0);
        // The lost-job check ran all along (every 3 s) and took no live job away from its worker.
        expect(record.events.filter((e) => e.error?.startsWith('Its worker stopped'))).toEqual([]);
        expect(lost).toBe(0);
        expect(recoveryMs).toBeLessThan(60_000);
      } finally {
        await env.ollama.standin!.setDown(false);
        await record.stop();
      }
    },
    OUTAGE_MS + 150_000,
  );

  // Fault injection (a slowed or stopped stand-in): skipped against a real Ollama.
  describe.skipIf(!!process.env.OLLAMA_URL)('worker killed', () => {
    it.each(['processing', 'waiting'] as const)(
      'while %s: its document is pending again within the heartbeat, then indexed by another worker',
      async (phase) => {
        const env = await ingestEnv({
          JOB_HEARTBEAT_SECONDS: '10',
          RETRY_BASE_DELAY: '1s',
          RETRY_MAX_DELAY: '2s',
        });
        const owner = await addUser(env.db, `victim-${phase}`);
        const ollama = env.ollama.standin!;
        ollama.batchCostMs = 400;
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
        // `waiting`: worker 1 is retrying the embedder in place when it dies.
        if (phase === 'waiting') await ollama.setDown(true);
        // The document and its job, as the gateway writes them (only worker 1 runs yet).
        const storage = createStorage(env.config);
        const boss = await startQueue(env.config, { work: false, onError: () => {} });
        const record = await recordStatuses(env.db);
        try {
          const gateway = { deps: { db: env.db, storage, boss } } as unknown as Ingestor;
          const id = await uploadDocument(gateway, {
            ownerId: owner,
            filename: 'long.txt',
            content: LONG_TEXT('heartbeat', 40),
            access: 'org',
          });
          await boss.stop({ graceful: false, close: true });
          await waitFor(`worker 1 ${phase}`, async () => {
            const d = await env.db('documents').where({ id }).first();
            return d?.status === phase && (phase === 'waiting' || ollama.counters.embedCalls > 0);
          });
          const killedAt = Date.now();
          child.kill('SIGKILL');
          await once(child, 'exit');
          // Worker 2 (which runs the lost-job check) starts right away, as a restarted container would.
          const ingestor = await env.start({ watch: false });
          running.push(ingestor);
          // Taken back from the dead worker: the lost-job check finds no live job and writes `pending`;
          // or pg-boss's supervisor failed the lapsed job first and worker 2 already took the
          // document's next job (the one the reconcile pass at its start queued for a `waiting`
          // document), so it went straight to `processing` in a run of worker 2. Both are the truth;
          // which comes first is a race between two timers, so `pending` alone may never be seen.
          const runOfWorker2 = (d: DocumentRow | undefined) =>
            d?.processing_started_at && d.processing_started_at.getTime() >= killedAt
              ? d.processing_started_at.getTime()
              : undefined;
          const retaken = await waitFor(
            'taken back from worker 1',
            async () => {
              const released = record.events.find(
                (e) => e.id === id && e.status === 'pending' && e.at >= killedAt,
              );
              if (released) return { at: released.at, how: 'pending again', error: released.error };
              const at = runOfWorker2(await env.db<DocumentRow>('documents').where({ id }).first());
              return at === undefined ? undefined : { at, how: 'taken by worker 2', error: null };
            },
            30_000,
          );
          const afterMs = retaken.at - killedAt;
          ollama.batchCostMs = 0;
          await ollama.setDown(false);
          const done = await waitFor(
            'indexed by worker 2',
            async () => {
              const d = await env.db<DocumentRow>('documents').where({ id }).first();
              return d?.status === 'indexed' ? d : undefined;
            },
            60_000,
          );
          console.info(
            `worker killed while ${phase}: ${retaken.how} after ${afterMs} ms (heartbeat 10 s), then indexed with ${done.chunk_count} chunks`,
          );
          if (retaken.how === 'pending again')
            expect(retaken.error).toBe('Its worker stopped; waiting for another worker');
          // The lapse is due at most one heartbeat (10 s) after the last beat; the check runs every
          // heartbeat/10 (1 s); the rest is slack for a loaded machine.
          expect(afterMs).toBeLessThanOrEqual(10_000 + 1_000 + 1_500);
          // The run that indexed it began after the kill (worker 2's); it never `failed`; and a
          // `waiting` document left that state for `pending` or worker 2's run.
          expect(runOfWorker2(done)).toBeDefined();
          const after = record.events.filter((e) => e.id === id && e.at >= killedAt).map((e) => e.status);
          expect(after).not.toContain('failed');
          if (phase === 'waiting')
            expect(['pending', 'processing']).toContain(after.find((s) => s !== phase));
          expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(done.chunk_count);
        } finally {
          child.kill('SIGKILL');
          await ollama.setDown(false);
          await record.stop();
        }
      },
      90_000,
    );
  });
});
