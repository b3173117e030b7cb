import { beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { JOBS, defaultIngestConcurrency, objectKey, sendInTransaction } from '@rattgllm/core';
import { fetchPlan } from '../src/worker.js';
import { addUser, ingestEnv, uploadDocument, waitFor, type IngestEnv } from './support.js';
import type { Ingestor } from '../src/main.js';

describe('job scheduling', () => {
  let env: IngestEnv;
  let ingestor: Ingestor;
  let alice: string;
  // A base poll far longer than the waits below: only a NOTIFY (or a burst re-fetch) can meet them.
  const POLL_SECONDS = 30;

  beforeAll(async () => {
    env = await ingestEnv({ INGEST_CONCURRENCY: '4' });
    alice = await addUser(env.db, 'alice');
    ingestor = await env.start({ pollingIntervalSeconds: POLL_SECONDS });
  });

  const allIndexed = (ids: string[], timeoutMs: number) =>
    waitFor(
      `${ids.length} documents indexed`,
      async () => {
        const rows = await env.db('documents').whereIn('id', ids).select('status', 'error');
        const failed = rows.find((r: { status: string }) => r.status === 'failed');
        if (failed) throw new Error(`failed: ${failed.error}`);
        return rows.filter((r: { status: string }) => r.status === 'indexed').length === ids.length;
      },
      timeoutMs,
    );

  it('a queued document starts at once: the insert wakes an idle worker', async () => {
    // Let the start-up work (the reconcile pass) finish, so the workers are idle and asleep.
    await new Promise((r) => setTimeout(r, 2500));
    const t0 = Date.now();
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'one.txt',
      content: 'One small note.',
    });
    await allIndexed([id], 3000);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('a backlog is drained back to back, several jobs per fetch, without sleeping between them', async () => {
    const { deps } = ingestor;
    const docs: { id: string; key: string; size: number; sha256: string; filename: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const id = (await deps.db.raw('select gen_random_uuid() as id')).rows[0].id as string;
      const filename = `n${i}.txt`;
      const key = objectKey(id, filename);
      const text = `Note ${i} about the quarterly plan and its owners.`;
      const stored = await deps.storage.put(key, Readable.from([Buffer.from(text)]), {
        contentType: 'text/plain',
      });
      docs.push({ id, key, filename, size: stored.size, sha256: stored.sha256 });
    }
    const t0 = Date.now();
    // One transaction: Postgres folds its identical NOTIFYs into one, so a single wake-up has to
    // drain all 12 jobs over 4 slots. A worker sleeping between batches would wait out the 30 s poll.
    await deps.db.transaction(async (trx) => {
      for (const d of docs) {
        await trx('documents').insert({
          id: d.id,
          owner_id: alice,
          filename: d.filename,
          mime: 'text/plain',
          size: d.size,
          sha256: d.sha256,
          storage_key: d.key,
          source: 'upload',
          access: 'private',
        });
        await sendInTransaction(deps.boss, trx, JOBS.ingest, { documentId: d.id });
      }
    });
    await allIndexed(
      docs.map((d) => d.id),
      20_000,
    );
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('concurrency defaults', () => {
  it('sizes the ingestor from the cores and the embedding batch', () => {
    expect(defaultIngestConcurrency(2, 32)).toBe(32);
    expect(defaultIngestConcurrency(16, 32)).toBe(64);
    expect(defaultIngestConcurrency(64, 32)).toBe(64);
    expect(defaultIngestConcurrency(2, 1)).toBe(8);
  });

  it('splits the slots into a few fetchers of at most 8 jobs per round trip', () => {
    expect(fetchPlan(1)).toEqual({ fetchers: 1, batchSize: 1 });
    expect(fetchPlan(2)).toEqual({ fetchers: 1, batchSize: 2 });
    expect(fetchPlan(32)).toEqual({ fetchers: 4, batchSize: 8 });
    expect(fetchPlan(20)).toEqual({ fetchers: 3, batchSize: 7 });
  });
});
