import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  INDEXED_INTEGERS,
  INDEXED_KEYWORDS,
  OllamaServerError,
  createEmbedder,
  createVectorIndex,
  encodeDocument,
  isRetryable,
  parseConfig,
} from '@rattgllm/core';
import {
  lexicalEmbedding,
  startOllama,
  startQdrant,
  uniqueCollectionName,
} from '../../test/standins/index.js';

const ollama = await startOllama({ dimension: 768 });
const qdrant = await startQdrant();
afterAll(async () => {
  await ollama.close();
  await qdrant.close();
});
afterEach(() => {
  ollama.standin?.resetFaults();
  qdrant.standin?.resetFaults();
});

const fast = { horizonMs: 30_000, baseDelayMs: 10, maxDelayMs: 50 };
const config = (overrides: Record<string, string> = {}) =>
  parseConfig({ JWT_SECRET: 'test-secret-0123456789', ...ollama.env, ...qdrant.env, ...overrides });

describe('embedder faults (stand-in)', () => {
  it.skipIf(!!process.env.OLLAMA_URL)(
    'a model runner killed mid-request (HTTP 400 "do embedding request: … EOF") is transient',
    async () => {
      ollama.standin!.crashRunner(1);
      const embedder = createEmbedder(config());
      const err = await embedder.embedDocuments(['a']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OllamaServerError);
      expect((err as Error).message).toContain('do embedding request');
      expect(isRetryable(err)).toBe(true);
      // The next request gets a fresh runner, as with the real Ollama.
      await expect(embedder.embedDocuments(['a'])).resolves.toHaveLength(1);
    },
  );

  it.skipIf(!!process.env.OLLAMA_URL)(
    'retries only the batch that failed (a 503 on batch 7 of 40 retries batch 7)',
    async () => {
      const standin = ollama.standin!;
      const texts = Array.from({ length: 40 }, (_, i) => `passage ${i}`);
      const embedder = createEmbedder(config({ EMBED_BATCH_SIZE: '1', EMBED_CONCURRENCY: '1' }));
      const expected = await embedder.embedDocuments(texts);
      const before = standin.log.length;
      let seen = 0;
      // Fail the 7th embed call of the run (= batch 7, one lane), twice.
      const onRetry = () => void seen++;
      const run = embedder.embedDocuments(texts, { retry: { ...fast, onRetry } });
      await new Promise<void>((resolve) => {
        const tick = () => {
          if (standin.log.length - before >= 6) {
            standin.failWith(503, 'server busy', 2, { path: '/api/embed' });
            resolve();
          } else setImmediate(tick);
        };
        tick();
      });
      const vectors = await run;
      expect(vectors).toEqual(expected);
      const calls = standin.log.slice(before).filter((r) => r.path === '/api/embed');
      const failed = calls.filter((r) => r.status === 503);
      expect(failed).toHaveLength(2);
      expect(seen).toBe(2);
      // 40 batches answered once each, plus the two failed tries of the one batch.
      expect(calls.filter((r) => r.status === 200)).toHaveLength(40);
      const failedInputs = failed.map((r) => (r.body as { input: string[] }).input[0]);
      expect(new Set(failedInputs).size).toBe(1);
    },
  );

  it.skipIf(!!process.env.OLLAMA_URL)('retries a 429 (rate limited)', async () => {
    ollama.standin!.failWith(429, 'too many requests', 1, { path: '/api/embed', retryAfter: 1 });
    const embedder = createEmbedder(config());
    // The ollama client does not expose headers, so the pause comes from our backoff; Qdrant's
    // client does (see below). Here: a 429 is retried and succeeds.
    const pauses: number[] = [];
    await embedder.embedDocuments(['a'], { retry: { ...fast, onRetry: (a) => void pauses.push(a.delayMs) } });
    expect(pauses).toHaveLength(1);
  });
});

describe('vector index repair', () => {
  /** Qdrant's own API, as an operator (or a lost volume) would remove the collection. */
  const qdrantHttp = (path: string, method = 'GET') =>
    fetch(`${qdrant.url}${path}`, {
      method,
      headers: qdrant.env.QDRANT_API_KEY ? { 'api-key': qdrant.env.QDRANT_API_KEY } : {},
    }).then((r) => r.json() as Promise<{ result: Record<string, unknown> }>);

  it('a deleted collection is re-created with its shape and payload indexes by the next call, once', async () => {
    const collection = uniqueCollectionName('repair');
    let recreated = 0;
    const index = createVectorIndex(config({ QDRANT_COLLECTION: collection, EMBED_DIM: '64' }), {
      onCollectionRecreated: () => void recreated++,
    });
    await index.ensureCollection();
    const doc = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0009';
    const point = (i: number) => ({
      index: i,
      text: `text ${i}`,
      dense: lexicalEmbedding(`text ${i}`, 64),
      sparse: encodeDocument(`text ${i}`),
    });
    try {
      await index.upsertChunks(doc, 1, [point(0), point(1)], { filename: 'f', principals: ['org'] });
      await qdrantHttp(`/collections/${collection}`, 'DELETE');

      // Several calls find it missing at once: one re-creation, every call answered.
      const counts = await Promise.all([1, 2, 3].map(() => index.countDocumentPoints(doc)));
      expect(counts).toEqual([0, 0, 0]);
      expect(recreated).toBe(1);
      const info = (await qdrantHttp(`/collections/${collection}`)).result as {
        config: { params: { vectors: Record<string, unknown>; sparse_vectors: Record<string, unknown> } };
        payload_schema: Record<string, { data_type: string }>;
      };
      expect(info.config.params.vectors.dense).toMatchObject({ size: 64, distance: 'Cosine' });
      expect(info.config.params.sparse_vectors.sparse).toMatchObject({ modifier: 'idf' });
      for (const field of INDEXED_KEYWORDS) expect(info.payload_schema[field]?.data_type).toBe('keyword');
      for (const field of INDEXED_INTEGERS) expect(info.payload_schema[field]?.data_type).toBe('integer');

      // A write into the lost collection goes into the new one.
      await qdrantHttp(`/collections/${collection}`, 'DELETE');
      await index.upsertChunks(doc, 2, [point(0)], { filename: 'f', principals: ['org'] });
      expect(await index.countDocumentPoints(doc)).toBe(1);
      expect(recreated).toBe(2);
    } finally {
      await qdrantHttp(`/collections/${collection}`, 'DELETE');
    }
  });

  it.skipIf(!!process.env.QDRANT_URL)('carries Qdrant’s retry-after', async () => {
    const index = createVectorIndex(
      config({ QDRANT_COLLECTION: uniqueCollectionName('ra'), EMBED_DIM: '64' }),
    );
    await index.ensureCollection();
    qdrant.standin!.failWith(503, 'overloaded', 1, { retryAfter: 3 });
    const err = await index
      .countDocumentPoints('6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0009')
      .catch((e: unknown) => e);
    expect(isRetryable(err)).toBe(true);
    expect((err as { retryAfterMs?: number }).retryAfterMs).toBe(3000);
  });
});
