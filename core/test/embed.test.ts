import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  EmbedDimensionMismatchError,
  EmbedModelNotFoundError,
  OllamaServerError,
  OllamaTimeoutError,
  OllamaUnavailableError,
  createEmbedder,
  isRetryable,
  parseConfig,
} from '@rattgllm/core';
import { startOllama } from '../../test/standins/index.js';

const ollama = await startOllama({ dimension: 768 });
const standin = ollama.standin;

function config(overrides: Record<string, string> = {}) {
  return parseConfig({ JWT_SECRET: 'test-secret-0123456789', ...ollama.env, ...overrides });
}
// The model under test: the stand-in's nomic-embed-text, or EMBED_MODEL/EMBED_DIM/prefixes of a live run.
const {
  EMBED_MODEL: MODEL,
  EMBED_DIM: DIM,
  EMBED_DOCUMENT_PREFIX: DOC,
  EMBED_QUERY_PREFIX: QUERY,
} = config();

afterAll(() => ollama.close());
afterEach(async () => {
  await standin?.setDown(false);
  standin?.resetFaults();
  standin?.addModel('nomic-embed-text');
});

describe('embedder', () => {
  it('checks the model and its dimension', async () => {
    const info = await createEmbedder(config()).checkModel();
    expect(info).toMatchObject({ model: MODEL, dimension: DIM });
    expect(info.contextLength).toBeGreaterThan(0);
    if (standin) expect(info.contextLength).toBe(standin.contextLength);
  });

  it('embeds documents in order, in batches of EMBED_BATCH_SIZE with the document prefix', async () => {
    const texts = Array.from({ length: 10 }, (_, i) => `passage number ${i} about topic ${i % 3}`);
    const embedder = createEmbedder(config({ EMBED_BATCH_SIZE: '4', EMBED_CONCURRENCY: '2' }));
    const before = standin?.log.length ?? 0;
    const vectors = await embedder.embedDocuments(texts);
    expect(vectors).toHaveLength(10);
    for (const v of vectors) expect(v).toHaveLength(DIM);
    // Same text → same vector, whatever batch it was in.
    const again = await embedder.embedDocuments([texts[7]!]);
    expect(again[0]![0]).toBeCloseTo(vectors[7]![0]!, 5);
    if (standin) {
      const calls = standin.log.slice(before).filter((r) => r.path === '/api/embed');
      const inputs = calls.slice(0, 3).map((r) => (r.body as { input: string[] }).input);
      expect(inputs.map((i) => i.length).sort()).toEqual([2, 4, 4]);
      expect(inputs.flat().sort()).toEqual(texts.map((t) => `${DOC}${t}`).sort());
    }
  });

  it('never has more than EMBED_CONCURRENCY batches in flight', async ({ skip }) => {
    if (!standin) return skip('needs the stand-in');
    let inFlight = 0;
    let peak = 0;
    const original = standin.batchCostMs;
    standin.batchCostMs = 0;
    standin.faults.slowMs = 30; // per request, in parallel (the device queue would serialise cost)
    const embedder = createEmbedder(config({ EMBED_BATCH_SIZE: '1', EMBED_CONCURRENCY: '3' }));
    const fetchSpy = globalThis.fetch;
    globalThis.fetch = async (...args) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await fetchSpy(...args);
      } finally {
        inFlight--;
      }
    };
    try {
      await embedder.embedDocuments(Array.from({ length: 9 }, (_, i) => `t${i}`));
    } finally {
      globalThis.fetch = fetchSpy;
      standin.batchCostMs = original;
    }
    expect(peak).toBe(3);
  });

  it('embeds queries with the query prefix', async () => {
    const before = standin?.log.length ?? 0;
    const v = await createEmbedder(config()).embedQuery('where is the invoice?');
    expect(v).toHaveLength(DIM);
    if (standin) {
      const call = standin.log.slice(before).find((r) => r.path === '/api/embed')!;
      expect((call.body as { input: string[] }).input).toEqual([`${QUERY}where is the invoice?`]);
    }
  });

  it('sends no prefix when set to none or empty', async ({ skip }) => {
    if (!standin) return skip('reads the requests the stand-in received');
    for (const off of ['none', '']) {
      const before = standin.log.length;
      const embedder = createEmbedder(config({ EMBED_DOCUMENT_PREFIX: off, EMBED_QUERY_PREFIX: off }));
      await embedder.embedQuery('plain query');
      await embedder.embedDocuments(['plain passage']);
      const inputs = standin.log
        .slice(before)
        .filter((r) => r.path === '/api/embed')
        .flatMap((r) => (r.body as { input: string[] }).input);
      expect(inputs).toEqual(['plain query', 'plain passage']);
    }
  });

  it('reports which inputs the model had to cut to its context', async ({ skip }) => {
    if (!standin) return skip('needs a stand-in with a small context');
    const original = standin.contextLength;
    standin.contextLength = 20;
    try {
      const long = 'word '.repeat(50);
      const cut: number[][] = [];
      const vectors = await createEmbedder(
        config({ EMBED_BATCH_SIZE: '2', EMBED_CONCURRENCY: '1' }),
      ).embedDocuments(['short one', long, 'short two', long], { onTruncated: (i) => cut.push(i) });
      expect(vectors).toHaveLength(4);
      expect(cut).toEqual([[1, 3]]);
    } finally {
      standin.contextLength = original;
    }
  });

  it('names a missing model and how to fix it (permanent)', async ({ skip }) => {
    if (!standin) return skip('fault injection needs the stand-in');
    standin.removeModel(MODEL);
    const embedder = createEmbedder(config());
    for (const call of [() => embedder.checkModel(), () => embedder.embedQuery('x')]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbedModelNotFoundError);
      expect((err as Error).message).toBe(
        'model nomic-embed-text not found — run `ollama pull nomic-embed-text`',
      );
      expect(isRetryable(err)).toBe(false);
    }
  });

  it('says Ollama refused the connection when it is down (retryable)', async ({ skip }) => {
    if (!standin) return skip('fault injection needs the stand-in');
    await standin.setDown(true);
    const err = await createEmbedder(config())
      .embedDocuments(['a'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OllamaUnavailableError);
    expect((err as Error).message).toBe(`Ollama at ${standin.url} refused the connection`);
    expect((err as OllamaUnavailableError).code).toBe('OLLAMA_UNAVAILABLE');
    expect(isRetryable(err)).toBe(true);
  });

  it('maps 5xx to a retryable server error carrying Ollama’s message', async ({ skip }) => {
    if (!standin) return skip('fault injection needs the stand-in');
    standin.failWith(500, 'llama runner process has terminated: exit status 2');
    const err = await createEmbedder(config())
      .embedDocuments(['a', 'b'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OllamaServerError);
    expect((err as Error).message).toContain('llama runner process has terminated');
    expect((err as Error).message).toContain('HTTP 500');
    expect(isRetryable(err)).toBe(true);
  });

  it('rejects a model of the wrong dimension with both numbers (permanent)', async ({ skip }) => {
    if (!standin) return skip('fault injection needs the stand-in');
    standin.ollamaFaults.wrongDimension = 1024;
    const embedder = createEmbedder(config());
    for (const call of [() => embedder.checkModel(), () => embedder.embedDocuments(['a'])]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbedDimensionMismatchError);
      expect((err as Error).message).toMatch(/1024.*768/);
      expect(isRetryable(err)).toBe(false);
    }
  });

  it('times out after EMBED_TIMEOUT (retryable)', async ({ skip }) => {
    if (!standin) return skip('fault injection needs the stand-in');
    standin.faults.slowMs = 1500;
    const err = await createEmbedder(config({ EMBED_TIMEOUT: '1' }))
      .embedQuery('x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OllamaTimeoutError);
    expect((err as Error).message).toBe(`Ollama at ${standin.url} did not answer within 1s (EMBED_TIMEOUT)`);
    expect(isRetryable(err)).toBe(true);
  });

  it('stops at the caller’s abort with the caller’s reason', async ({ skip }) => {
    if (!standin) return skip('needs a slow stand-in');
    standin.faults.slowMs = 2000;
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    setTimeout(() => controller.abort(reason), 50);
    const t0 = Date.now();
    const err = await createEmbedder(config())
      .embedDocuments(['a', 'b', 'c'], { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
