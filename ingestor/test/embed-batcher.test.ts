import { afterAll, describe, expect, it } from 'vitest';
import { createEmbedder, parseConfig } from '@rattgllm/core';
import { startOllama } from '../../test/standins/index.js';
import { EmbedBatcher, type EmbedCall } from '../src/pipeline/embed-batcher.js';

// Each call costs 20 ms on the stand-in's device, so texts queued meanwhile have to be coalesced.
const ollama = await startOllama({ batchCostMs: 20 });
afterAll(() => ollama.close());
const embedder = createEmbedder(
  parseConfig({ JWT_SECRET: 'test-secret-0123456789', ...ollama.env, EMBED_BATCH_SIZE: '64' }),
);

/** The real embedder, recording every call's texts and the most calls seen in flight at once. */
function recorded(fault?: (texts: string[]) => Error | undefined) {
  const calls: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const call: EmbedCall = async (texts, options) => {
    calls.push(texts);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const err = fault?.(texts);
      if (err) throw err;
      return await embedder.embedDocuments(texts, options);
    } finally {
      inFlight--;
    }
  };
  return { call, calls, maxInFlight: () => maxInFlight };
}

const docTexts = (doc: number, n: number) =>
  Array.from({ length: n }, (_, i) => `document ${doc} passage ${i} about topic ${doc * 100 + i}`);
const signal = () => new AbortController().signal;

describe('embedding batcher', () => {
  it('coalesces the passages of concurrent documents into shared calls and routes the vectors back', async () => {
    const rec = recorded();
    const batcher = new EmbedBatcher(rec.call, { batchSize: 8, concurrency: 2, maxWaitMs: 5 });
    const docs = Array.from({ length: 12 }, (_, d) => docTexts(d, 1 + (d % 3)));
    const results = await Promise.all(docs.map((texts) => batcher.embedTexts(texts, { signal: signal() })));

    const total = docs.flat().length; // 24 texts
    expect(rec.calls.flat()).toHaveLength(total);
    expect(rec.calls.length).toBeLessThanOrEqual(Math.ceil(total / 8) + 2);
    expect(Math.max(...rec.calls.map((c) => c.length))).toBe(8);
    expect(rec.calls.some((c) => new Set(c.map((t) => t.split(' ')[1])).size > 1)).toBe(true);
    expect(rec.maxInFlight()).toBeLessThanOrEqual(2);
    // Each document gets its own vectors, in order: the same as embedding it on its own.
    for (const [d, texts] of docs.entries()) expect(results[d]).toEqual(await embedder.embedDocuments(texts));
  });

  it('waits at most maxWaitMs for a part-filled batch to fill', async () => {
    const rec = recorded();
    const batcher = new EmbedBatcher(rec.call, { batchSize: 8, concurrency: 2, maxWaitMs: 400 });
    const first = batcher.embedTexts(docTexts(1, 1), { signal: signal() });
    await new Promise((r) => setTimeout(r, 20));
    const second = batcher.embedTexts(docTexts(2, 2), { signal: signal() });
    const t0 = performance.now();
    await Promise.all([first, second]);
    expect(rec.calls).toEqual([[...docTexts(1, 1), ...docTexts(2, 2)]]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('never has more than `concurrency` calls in flight and reports exact progress per document', async () => {
    const rec = recorded();
    const batcher = new EmbedBatcher(rec.call, { batchSize: 4, concurrency: 1, maxWaitMs: 0 });
    const progress: number[] = [];
    const vectors = await batcher.embedTexts(docTexts(7, 18), {
      signal: signal(),
      onProgress: (done, total) => {
        expect(total).toBe(18);
        progress.push(done);
      },
    });
    expect(vectors).toHaveLength(18);
    expect(rec.calls.map((c) => c.length)).toEqual([4, 4, 4, 4, 2]);
    expect(progress).toEqual([4, 8, 12, 16]);
    expect(rec.maxInFlight()).toBe(1);
  });

  it('a failed shared call is retried per document: only the document at fault fails', async () => {
    const poison = new Error('input rejected');
    const rec = recorded((texts) => (texts.some((t) => t.startsWith('document 2 ')) ? poison : undefined));
    const batcher = new EmbedBatcher(rec.call, { batchSize: 16, concurrency: 1, maxWaitMs: 20 });
    const [a, b, c] = await Promise.allSettled(
      [1, 2, 3].map((d) => batcher.embedTexts(docTexts(d, 2), { signal: signal() })),
    );
    expect(b).toEqual({ status: 'rejected', reason: poison });
    expect(a).toEqual({ status: 'fulfilled', value: await embedder.embedDocuments(docTexts(1, 2)) });
    expect(c).toEqual({ status: 'fulfilled', value: await embedder.embedDocuments(docTexts(3, 2)) });
    // One shared call of 6 texts, then each document's share alone.
    expect(rec.calls.map((t) => t.length)).toEqual([6, 2, 2, 2]);
  });

  it.skipIf(!ollama.standin)(
    'a transient failure of a shared call (HTTP 500 once) is healed by the retries alone (fault injection: stand-in only)',
    async () => {
      const rec = recorded();
      const batcher = new EmbedBatcher(rec.call, { batchSize: 16, concurrency: 1, maxWaitMs: 20 });
      ollama.standin!.failWith(500, 'device lost', 1);
      const results = await Promise.all(
        [1, 2].map((d) => batcher.embedTexts(docTexts(d, 3), { signal: signal() })),
      );
      ollama.standin!.resetFaults();
      expect(results[0]).toEqual(await embedder.embedDocuments(docTexts(1, 3)));
      expect(results[1]).toEqual(await embedder.embedDocuments(docTexts(2, 3)));
      expect(rec.calls.map((t) => t.length)).toEqual([6, 3, 3]);
    },
  );

  it('abort: the document rejects with its reason at once, its queued texts are never sent, the others finish', async () => {
    const rec = recorded();
    const batcher = new EmbedBatcher(rec.call, { batchSize: 4, concurrency: 1, maxWaitMs: 0 });
    const busy = batcher.embedTexts(docTexts(1, 4), { signal: signal() }); // occupies the only slot
    const ac = new AbortController();
    const aborted = batcher.embedTexts(docTexts(2, 8), { signal: ac.signal });
    const other = batcher.embedTexts(docTexts(3, 2), { signal: signal() });
    const reason = new Error('worker stopping');
    ac.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await Promise.all([busy, other]);
    expect(rec.calls.flat().some((t) => t.startsWith('document 2 '))).toBe(false);
    expect(rec.calls.flat()).toHaveLength(6);
    // An already aborted signal is refused before anything is queued.
    await expect(batcher.embedTexts(docTexts(4, 1), { signal: ac.signal })).rejects.toBe(reason);
  });
});
