import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbedModelNotFoundError, type DocumentRow } from '@rattgllm/core';
import {
  addUser,
  ingestEnv,
  LONG_TEXT,
  uploadDocument,
  waitFor,
  writeDropFile,
  type IngestEnv,
} from './support.js';

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
    env = await ingestEnv({ INGEST_MAX_ATTEMPTS: '2' });
    owner = await addUser(env.db, 'faulty');
  });

  it.skipIf(!!process.env.OLLAMA_URL)(
    'Ollama down: retried, then failed with the address in the message',
    async () => {
      const ingestor = await env.start({ watch: false });
      await env.ollama.standin!.setDown(true);
      try {
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'down.txt',
          content: LONG_TEXT('outage'),
        });
        const pending = await waitFor('first attempt failed', async () => {
          const d = await doc({ id });
          return d?.error?.startsWith('Attempt 1 of 2 failed') ? d : undefined;
        });
        expect(pending.status).toBe('pending');
        const d = await settled({ id }, 30_000);
        expect(d.status).toBe('failed');
        expect(d.error).toBe(`Ollama at ${env.ollama.url} refused the connection`);
      } finally {
        await env.ollama.standin!.setDown(false);
        await ingestor.stop();
      }
    },
    45_000,
  );

  it.skipIf(!!process.env.OLLAMA_URL)(
    'a 5xx once is retried and then succeeds',
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
        env.ollama.standin!.failWith(500, 'model runner crashed', 1);
        const id = await uploadDocument(ingestor, {
          ownerId: owner,
          filename: 'flaky.txt',
          content: LONG_TEXT('flaky'),
        });
        const d = await settled({ id }, 30_000);
        expect(d.status).toBe('indexed');
        expect(d.error).toBeNull();
        const jobs = await env.db.raw(
          `select retry_count from pgboss.job where name = 'ingest' and data->>'documentId' = ?`,
          [id],
        );
        expect(jobs.rows[0].retry_count).toBe(1);
      } finally {
        env.ollama.standin!.resetFaults();
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
    const first = await env.start();
    await writeDropFile(env.dropDir, 'shared/keep.txt', LONG_TEXT('keep'));
    await writeDropFile(env.dropDir, 'shared/edit.txt', LONG_TEXT('before'));
    await writeDropFile(env.dropDir, 'shared/remove.txt', LONG_TEXT('remove'));
    const keep = await settled({ source_path: 'shared/keep.txt' });
    const edit = await settled({ source_path: 'shared/edit.txt' });
    const removed = await settled({ source_path: 'shared/remove.txt' });
    await first.stop();

    // While it is down: one new file, one edit, one deletion, and Qdrant loses a document's points.
    await writeDropFile(env.dropDir, 'shared/new.txt', LONG_TEXT('fresh'));
    await writeFile(join(env.dropDir, 'shared/edit.txt'), LONG_TEXT('after'));
    await rm(join(env.dropDir, 'shared/remove.txt'));
    const second = await env.start({ watch: false });
    await second.deps.index.deleteDocument(keep.id);
    try {
      await second.scheduleReconcile();
      expect((await settled({ source_path: 'shared/new.txt' })).status).toBe('indexed');
      await waitFor(
        'edit re-indexed',
        async () => ((await doc({ id: edit.id }))?.version ?? 0) > edit.version,
      );
      await waitFor('removed', async () => !(await doc({ id: removed.id })));
      await waitFor(
        'points restored',
        async () => (await second.deps.index.countDocumentPoints(keep.id)) === keep.chunk_count,
      );
    } finally {
      await second.stop();
    }
  }, 45_000);

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
