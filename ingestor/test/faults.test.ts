import { createHash } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EmbedModelNotFoundError,
  JOBS,
  objectKey,
  sendInTransaction,
  type DocumentRow,
} from '@rattgllm/core';
import { reconcile } from '../src/jobs/reconcile.js';
import {
  addUser,
  ingestEnv,
  LONG_TEXT,
  uploadDocument,
  waitFor,
  writeDropFile,
  type IngestEnv,
} from './support.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A documents row, as the tests read it. */
type Doc = DocumentRow;

describe('ingestor faults', () => {
  let env: IngestEnv;
  let owner: string;
  const doc = (where: Record<string, unknown>) => env.db<Doc>('documents').where(where).first();
  const settled = (where: Record<string, unknown>, timeoutMs?: number) =>
    waitFor(
      `settled ${JSON.stringify(where)}`,
      async () => {
        const d = await doc(where);
        return d && (d.status === 'indexed' || d.status === 'failed') ? d : undefined;
      },
      timeoutMs,
    );

  beforeAll(async () => {
    // A short horizon and backoff, so "still down after the horizon" fits in a test.
    env = await ingestEnv({
      INGEST_MAX_ATTEMPTS: '2',
      RETRY_HORIZON: '6s',
      RETRY_BASE_DELAY: '1s',
      RETRY_MAX_DELAY: '2s',
    });
    owner = await addUser(env.db, 'faulty');
  });

  it.skipIf(!!process.env.OLLAMA_URL)(
    'Ollama down beyond RETRY_HORIZON: waiting with the next attempt time, then failed saying what to do',
    async () => {
      const ingestor = await env.start({ watch: false });
      await env.ollama.standin!.setDown(true);
      try {
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'down.txt',
          content: LONG_TEXT('outage'),
        });
        const waiting = await waitFor('waiting for Ollama', async () => {
          const d = await doc({ id });
          return d?.status === 'waiting' ? d : undefined;
        });
        expect(waiting.error).toMatch(
          /^The embedding service \(Ollama\) is not answering \(OLLAMA_UNAVAILABLE\); retry 1 at /,
        );
        expect(waiting.next_attempt_at!.getTime()).toBeGreaterThan(Date.now() - 5000);
        const d = await settled({ id }, 30_000);
        expect(d.status).toBe('failed');
        expect(d.error).toMatch(
          /^The embedding service \(Ollama\) is not answering \(OLLAMA_UNAVAILABLE\) — still failing after \d+s \(RETRY_HORIZON\); once the service is back, reindex the document$/,
        );
        expect(d.next_attempt_at).toBeNull();
      } finally {
        await env.ollama.standin!.setDown(false);
        await ingestor.stop();
      }
    },
    45_000,
  );

  it.skipIf(!!process.env.OLLAMA_URL)(
    'a 5xx once is retried in place (that batch only) and then succeeds',
    async () => {
      const ingestor = await env.start({ watch: false });
      try {
        // The reconcile pass at start retries the earlier test's failed document; the one 5xx
        // must hit our document, so wait until the queue is empty first.
        await waitFor('queue idle', async () => {
          const r = await env.db.raw(
            `select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active')`,
          );
          return r.rows[0].n === 0;
        });
        env.ollama.standin!.failWith(500, 'model runner crashed', 1, { path: '/api/embed' });
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'flaky.txt',
          content: LONG_TEXT('flaky'),
        });
        const d = await settled({ id }, 30_000);
        expect(d.status).toBe('indexed');
        expect(d.error).toBeNull();
        expect(env.ollama.standin!.faults.serverError?.remaining).toBe(0);
        const jobs = await env.db.raw(
          `select retry_count from pgboss.job where name = 'ingest' and data->>'documentId' = ?`,
          [id],
        );
        // Retried by the embedder, per batch: the job itself ran once.
        expect(jobs.rows[0].retry_count).toBe(0);
      } finally {
        env.ollama.standin!.resetFaults();
        await ingestor.stop();
      }
    },
    45_000,
  );

  it.skipIf(!!process.env.OLLAMA_URL)(
    'Ollama’s runner killed mid-request (HTTP 400 “do embedding request: … EOF”) is retried, not failed',
    async () => {
      const ingestor = await env.start({ watch: false });
      try {
        env.ollama.standin!.crashRunner(2);
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'runner.txt',
          content: LONG_TEXT('runner'),
        });
        const d = await settled({ id }, 30_000);
        expect(d.status).toBe('indexed');
        const crashed = env.ollama.standin!.log.filter(
          (r) => r.path === '/api/embed' && r.status === 400,
        ).length;
        expect(crashed).toBe(2);
      } finally {
        env.ollama.standin!.resetFaults();
        await ingestor.stop();
      }
    },
    45_000,
  );

  it.skipIf(!!process.env.QDRANT_URL)(
    'a transient fault outside embedding re-queues the job later (backoff, honouring retry-after)',
    async () => {
      const ingestor = await env.start({ watch: false });
      try {
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'later.txt',
          content: LONG_TEXT('later'),
        });
        expect((await settled({ id })).status).toBe('indexed');
        // An unchanged document's job only counts its points: Qdrant answers that with a 503 and
        // `retry-after: 3` (longer than our backoff; the horizon here is 6 s).
        const path = `/collections/${env.config.QDRANT_COLLECTION}/points/count`;
        env.qdrant.standin!.failWith(503, 'Service unavailable: overloaded', 1, { path, retryAfter: 3 });
        const sentAt = Date.now();
        await sendInTransaction(ingestor.deps.boss, env.db, JOBS.ingest, { documentId: id });
        const waiting = await waitFor('waiting', async () => {
          const d = await doc({ id });
          return d?.status === 'waiting' ? d : undefined;
        });
        expect(waiting.error).toMatch(
          /^The vector index \(Qdrant\) is not answering \(QDRANT_ERROR\); retry 1 at /,
        );
        expect(waiting.next_attempt_at!.getTime() - sentAt).toBeGreaterThanOrEqual(3000);
        await waitFor('indexed again', async () => (await doc({ id }))?.status === 'indexed', 30_000);
        expect(Date.now() - sentAt).toBeGreaterThanOrEqual(3000);
        const jobs = await env.db.raw(
          `select data from pgboss.job where name = 'ingest' and data->>'documentId' = ? and data->'retry' is not null order by created_on`,
          [id],
        );
        expect(jobs.rows.map((r: { data: { retry: { attempt: number } } }) => r.data.retry.attempt)).toEqual([
          1,
        ]);
      } finally {
        env.qdrant.standin!.resetFaults();
        await ingestor.stop();
      }
    },
    45_000,
  );

  it.skipIf(!!process.env.OLLAMA_URL)(
    'a missing model stops the ingestor at start; removed later, documents fail at once',
    async () => {
      env.ollama.standin!.removeModel('nomic-embed-text');
      try {
        await expect(env.start({ watch: false })).rejects.toBeInstanceOf(EmbedModelNotFoundError);
      } finally {
        env.ollama.standin!.addModel('nomic-embed-text');
      }
      const ingestor = await env.start({ watch: false });
      try {
        env.ollama.standin!.removeModel('nomic-embed-text');
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'nomodel.txt',
          content: LONG_TEXT('models'),
        });
        const d = await settled({ id });
        expect(d.status).toBe('failed');
        expect(d.error).toBe('model nomic-embed-text not found — run `ollama pull nomic-embed-text`');
      } finally {
        env.ollama.standin!.addModel('nomic-embed-text');
        await ingestor.stop();
      }
    },
  );

  it.skipIf(!!process.env.OLLAMA_URL)('a wrong embedding dimension refuses to start', async () => {
    env.ollama.standin!.ollamaFaults.wrongDimension = 384;
    try {
      await expect(env.start({ watch: false })).rejects.toThrow(
        /384-dimensional embeddings but EMBED_DIM is 768/,
      );
    } finally {
      env.ollama.standin!.ollamaFaults.wrongDimension = null;
    }
  });

  it('graceful stop lets the job in hand finish', async () => {
    if (env.ollama.standin) env.ollama.standin.batchCostMs = 150;
    const ingestor = await env.start({ watch: false });
    const id = await uploadDocument(ingestor, {
      ownerId: owner,
      filename: 'slow.txt',
      content: LONG_TEXT('patience', 30),
    });
    await waitFor('processing', async () => (await doc({ id }))?.status === 'processing');
    await ingestor.stop();
    if (env.ollama.standin) env.ollama.standin.batchCostMs = 0;
    expect((await doc({ id }))?.status).toBe('indexed');
  }, 30_000);

  it('reconciles changes made while the ingestor was stopped, and lost points', async () => {
    // Indexed with exactly these bytes. Not merely settled: the reconcile pass at start may find a
    // file created but not yet written and record it as refused ("The file is empty", `failed`);
    // the watcher indexes it once written. That passing state must not be taken for the result.
    const indexedWith = (path: string, content: string) =>
      waitFor(`${path} indexed`, async () => {
        const d = await doc({ source_path: path });
        return d?.status === 'indexed' && d.sha256 === sha256(content) ? d : undefined;
      });
    const first = await env.start();
    const texts = { keep: LONG_TEXT('keep'), before: LONG_TEXT('before'), remove: LONG_TEXT('remove') };
    await writeDropFile(env.dropDir, 'shared/keep.txt', texts.keep);
    await writeDropFile(env.dropDir, 'shared/edit.txt', texts.before);
    await writeDropFile(env.dropDir, 'shared/remove.txt', texts.remove);
    const keep = await indexedWith('shared/keep.txt', texts.keep);
    const edit = await indexedWith('shared/edit.txt', texts.before);
    const removed = await indexedWith('shared/remove.txt', texts.remove);
    expect(keep.chunk_count).toBeGreaterThan(0);
    await first.stop();

    // While it is down: one new file, one edit, one deletion, and Qdrant loses a document's points.
    await writeDropFile(env.dropDir, 'shared/new.txt', LONG_TEXT('fresh'));
    await writeFile(join(env.dropDir, 'shared/edit.txt'), LONG_TEXT('after'));
    await rm(join(env.dropDir, 'shared/remove.txt'));
    const second = await env.start({ watch: false });
    await second.deps.index.deleteDocument(keep.id);
    try {
      await second.scheduleReconcile();
      await indexedWith('shared/new.txt', LONG_TEXT('fresh'));
      const edited = await indexedWith('shared/edit.txt', LONG_TEXT('after'));
      expect(edited.id).toBe(edit.id);
      expect(edited.version).toBeGreaterThan(edit.version);
      await waitFor('removed', async () => !(await doc({ id: removed.id })));
      await waitFor(
        'points restored',
        async () => (await second.deps.index.countDocumentPoints(keep.id)) === keep.chunk_count,
      );
    } finally {
      await second.stop();
    }
  }, 45_000);

  it('the reconcile pass waits for a drop file still being written (not half indexed, not refused as empty)', async () => {
    const ingestor = await env.start({ watch: false });
    const rel = 'shared/copying.txt';
    const full = LONG_TEXT('copying');
    const half = Buffer.byteLength(full) >> 1;
    await writeDropFile(env.dropDir, rel, ''); // created, not yet written: what a copy starts with
    const handle = await open(join(env.dropDir, rel), 'w');
    try {
      const pass = reconcile(ingestor.deps, { root: env.dropDir });
      // The copy goes on while the pass looks: half now, the rest 400 ms later.
      await handle.write(full.slice(0, half));
      await new Promise((r) => setTimeout(r, 400));
      await handle.write(full.slice(half));
      await handle.close();
      await pass;
      // The pass stored what it read: the whole file, never the empty or half one.
      const stored = await doc({ source_path: rel });
      expect(stored?.status).not.toBe('failed');
      expect(stored?.sha256).toBe(sha256(full));
      const indexed = await waitFor('copying.txt indexed', async () => {
        const d = await doc({ source_path: rel });
        return d?.status === 'indexed' ? d : undefined;
      });
      expect(indexed.sha256).toBe(sha256(full));
    } finally {
      await handle.close().catch(() => {});
      await ingestor.stop();
    }
  }, 30_000);

  it('the reconcile pass leaves an upload in progress alone (object stored, row not yet)', async () => {
    const ingestor = await env.start({ watch: false });
    try {
      const { Readable } = await import('node:stream');
      const key = objectKey('6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f00aa', 'arriving.txt');
      await ingestor.deps.storage.put(key, Readable.from([Buffer.from('still uploading')]), {
        contentType: 'text/plain',
      });
      const report = await reconcile(ingestor.deps, {});
      expect(report.orphanObjects).toBe(0);
      expect(await ingestor.deps.storage.stat(key)).not.toBeNull();
      await ingestor.deps.storage.remove(key);
    } finally {
      await ingestor.stop();
    }
  });

  it('runs the reconcile pass on a schedule (shortened interval)', async () => {
    const fast = await ingestEnv({ REINDEX_INTERVAL: '1s' });
    const ingestor = await fast.start({ watch: false });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await writeDropFile(fast.dropDir, 'later.txt', LONG_TEXT('scheduled'));
      const d = await waitFor('picked up by a scheduled pass', async () => {
        const r = await fast.db<Doc>('documents').where({ source_path: 'later.txt' }).first();
        return r?.status === 'indexed' ? r : undefined;
      });
      expect(d.chunk_count).toBeGreaterThan(0);
    } finally {
      await ingestor.stop();
    }
  }, 30_000);
});
