/**
 * INGEST_MAX_BYTES_IN_FLIGHT (issue #12): the sum of the file sizes of the documents being read,
 * parsed, chunked and embedded never exceeds the budget, however many jobs the concurrency
 * allows; a file larger than the budget runs alone; waiting is first come, first served.
 */
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../src/bytes-in-flight.js';
import { addUser, ingestEnv, uploadDocument, waitFor } from './support.js';

const KB = 1024;
const MB = 1024 * KB;

describe('ByteBudget', () => {
  it('lets requests in while they fit, in arrival order, and runs an oversized one alone', async () => {
    const budget = new ByteBudget(100);
    const order: string[] = [];
    const a = await budget.acquire(60);
    const b = await budget.acquire(40);
    expect(budget.inFlight).toBe(100);
    const big = budget.acquire(500).then((r) => (order.push('big'), r));
    const small = budget.acquire(10).then((r) => (order.push('small'), r));
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    a();
    b();
    const releaseBig = await big;
    // The oversized file holds the whole budget; the small one, queued after it, waits.
    expect(budget.inFlight).toBe(100);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['big']);
    releaseBig();
    releaseBig(); // twice is harmless
    (await small)();
    expect(order).toEqual(['big', 'small']);
    expect(budget.inFlight).toBe(0);
    expect(budget.peak).toBe(100);
  });

  it('an aborted wait leaves the queue and lets the ones behind it in', async () => {
    const budget = new ByteBudget(100);
    const first = await budget.acquire(90);
    const controller = new AbortController();
    const blocked = budget.acquire(50, controller.signal);
    const behind = budget.acquire(10);
    controller.abort(new Error('job handed back'));
    await expect(blocked).rejects.toThrow('job handed back');
    (await behind)();
    first();
    expect(budget.waiting).toBe(0);
    expect(budget.inFlight).toBe(0);
  });
});

describe('ingestor with INGEST_MAX_BYTES_IN_FLIGHT', () => {
  it('a burst of large files stays under the bound and every file is indexed', async () => {
    const env = await ingestEnv({
      INGEST_MAX_BYTES_IN_FLIGHT: String(1 * MB),
      INGEST_CONCURRENCY: '8',
      CHUNK_TOKENS: '1000',
      EMBED_BATCH_SIZE: '32',
    });
    const owner = await addUser(env.db, 'bulk');
    const ingestor = await env.start();
    const budget = ingestor.deps.bytesInFlight!;
    expect(budget.capacity).toBe(MB);
    // About 400 KB of prose each, paragraphs of 20 lines.
    const text = (n: number) =>
      Array.from(
        { length: Math.ceil((400 * KB) / 70) },
        (_, i) =>
          `Line ${i} of report ${n}: quarterly figures, owners and deadlines.${i % 20 === 19 ? '\n\n' : ' '}`,
      ).join('');
    let maxWaiting = 0;
    const sampler = setInterval(() => (maxWaiting = Math.max(maxWaiting, budget.waiting)), 5);
    try {
      const ids = await Promise.all(
        Array.from({ length: 6 }, (_, n) =>
          uploadDocument(ingestor, { ownerId: owner, filename: `report-${n}.txt`, content: text(n) }),
        ),
      );
      for (const id of ids)
        await waitFor(
          `indexed ${id}`,
          async () => {
            const d = await env.db('documents').where({ id }).first();
            if (d?.status === 'failed') throw new Error(d.error);
            return d?.status === 'indexed';
          },
          60_000,
        );
    } finally {
      clearInterval(sampler);
    }
    // Six files of ~400 KB with room for eight jobs: only two fit the 1 MB at a time.
    expect(budget.peak).toBeLessThanOrEqual(MB);
    expect(budget.peak).toBeGreaterThanOrEqual(2 * 400 * KB * 0.9);
    expect(maxWaiting).toBeGreaterThan(0);
    expect(budget.inFlight).toBe(0);
  }, 120_000);
});
