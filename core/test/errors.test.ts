import { describe, expect, it } from 'vitest';
import {
  AppError,
  CollectionMissingError,
  EmbedDimensionMismatchError,
  EmbedModelNotFoundError,
  OllamaServerError,
  OllamaUnavailableError,
  QdrantRequestError,
  RetryHorizonExceededError,
  backoffDelay,
  classifyError,
  classifyUpstreamStatus,
  parseRetryAfter,
  retry,
} from '@rattgllm/core';

const netError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: { code } });

describe('classifyError: one rule for every dependency error', () => {
  it.each([
    ['connection refused', netError('ECONNREFUSED'), 503, 'DEPENDENCY_UNAVAILABLE'],
    ['connection reset', netError('ECONNRESET'), 503, 'DEPENDENCY_UNAVAILABLE'],
    ['DNS failure', netError('EAI_AGAIN'), 503, 'DEPENDENCY_UNAVAILABLE'],
    ['an abort timeout', new DOMException('timed out', 'TimeoutError'), 504, 'TIMEOUT'],
    ['a knex pool timeout', Object.assign(new Error('pool'), { name: 'KnexTimeoutError' }), 504, 'TIMEOUT'],
    ['HTTP 503', Object.assign(new Error('x'), { status: 503 }), 502, 'UPSTREAM_ERROR'],
    ['HTTP 429', Object.assign(new Error('x'), { status: 429 }), 503, 'UPSTREAM_RATE_LIMITED'],
    ['HTTP 408', Object.assign(new Error('x'), { statusCode: 408 }), 504, 'UPSTREAM_TIMEOUT'],
    [
      'Ollama runner killed (400 do embedding request)',
      Object.assign(new Error('do embedding request: Post "http://127.0.0.1:1/embedding": EOF'), {
        status_code: 400,
      }),
      502,
      'UPSTREAM_ERROR',
    ],
    [
      'Ollama runner killed (400 error reading embed response)',
      Object.assign(new Error('error reading embed response: unexpected EOF'), { status_code: 400 }),
      502,
      'UPSTREAM_ERROR',
    ],
    [
      'Postgres shutting down (57P01)',
      Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL' }),
      503,
      'DATABASE_UNAVAILABLE',
    ],
    ['Ollama down', new OllamaUnavailableError('down'), 503, 'OLLAMA_UNAVAILABLE'],
    ['Ollama 5xx', new OllamaServerError('boom'), 502, 'OLLAMA_SERVER_ERROR'],
    ['Qdrant 503', new QdrantRequestError('busy', 503), 503, 'QDRANT_ERROR'],
    ['a missing collection', new CollectionMissingError('gone'), 503, 'QDRANT_COLLECTION_MISSING'],
    [
      'a service error without a type',
      new AppError(503, 'STORAGE_UNAVAILABLE', 'x'),
      503,
      'STORAGE_UNAVAILABLE',
    ],
    ['an unknown error', new Error('something odd'), 500, 'INTERNAL_ERROR'],
    ['a thrown string', 'odd', 500, 'INTERNAL_ERROR'],
  ])('%s is transient', (_name, err, statusCode, code) => {
    expect(classifyError(err)).toMatchObject({ statusCode, code, retryable: true });
  });

  it.each([
    ['a model that is not pulled', new EmbedModelNotFoundError('m'), 503, 'EMBED_MODEL_NOT_FOUND'],
    ['a wrong dimension', new EmbedDimensionMismatchError('m', 768, 384), 500, 'EMBED_DIMENSION_MISMATCH'],
    ['a rejected Qdrant request', new QdrantRequestError('bad', 400), 502, 'QDRANT_REQUEST_REJECTED'],
    [
      'a corrupt file (permanent: true)',
      Object.assign(new AppError(422, 'PARSE_CORRUPT', 'x'), { permanent: true }),
      422,
      'PARSE_CORRUPT',
    ],
    ['an unsupported file', Object.assign(new Error('x'), { permanent: true }), 422, 'PERMANENT'],
    ['HTTP 400', Object.assign(new Error('invalid input type'), { status: 400 }), 502, 'UPSTREAM_REJECTED'],
    ['HTTP 404', Object.assign(new Error('no such route'), { status: 404 }), 502, 'UPSTREAM_REJECTED'],
    ['a bad request of ours', new AppError(400, 'BAD_REQUEST', 'x'), 400, 'BAD_REQUEST'],
    [
      'a unique violation',
      Object.assign(new Error('duplicate'), { code: '23505', severity: 'ERROR' }),
      500,
      'DATABASE_ERROR',
    ],
    [
      'an outage beyond the horizon',
      new RetryHorizonExceededError(3, 1000, new Error('x')),
      503,
      'RETRY_HORIZON_EXCEEDED',
    ],
  ])('%s is permanent', (_name, err, statusCode, code) => {
    expect(classifyError(err)).toMatchObject({ statusCode, code, retryable: false });
  });

  it('marks a missing Qdrant collection repairable, from the typed error or the raw answer', () => {
    expect(classifyError(new CollectionMissingError('gone')).repair).toBe('collection');
    expect(classifyUpstreamStatus(404, "Not found: Collection `docs` doesn't exist!")).toMatchObject({
      retryable: true,
      repair: 'collection',
      code: 'QDRANT_COLLECTION_MISSING',
    });
    expect(classifyUpstreamStatus(404, 'Not found: Point with id 7 does not exists!').retryable).toBe(false);
  });

  it('reads retry-after as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(10_000 + 3000).toUTCString(), 10_000)).toBe(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    const headers = new Headers({ 'retry-after': '2' });
    expect(classifyError(Object.assign(new Error('x'), { status: 503, headers })).retryAfterMs).toBe(2000);
    expect(classifyError(new QdrantRequestError('busy', 429, {}, 4000)).retryAfterMs).toBe(4000);
  });
});

describe('backoff and retry', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000, horizonMs: 60_000 };

  it('doubles the pause up to the cap, with jitter in the upper half', () => {
    expect(backoffDelay(policy, 1, undefined, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, undefined, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, undefined, () => 1)).toBe(400);
    expect(backoffDelay(policy, 30, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 30, undefined, () => 0)).toBe(500);
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(policy, 5)));
    expect(spread.size).toBeGreaterThan(1);
  });

  it('never waits less than retry-after', () => {
    expect(backoffDelay(policy, 1, 3000, () => 0)).toBe(3000);
  });

  it('retries transient failures, reporting each pause, until it works', async () => {
    let calls = 0;
    const pauses: number[] = [];
    const result = await retry(
      async () => {
        if (++calls < 3) throw new OllamaUnavailableError('down');
        return 'ok';
      },
      { ...policy, baseDelayMs: 10, maxDelayMs: 20, onRetry: (a) => void pauses.push(a.attempt) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(pauses).toEqual([1, 2]);
  });

  it('does not retry a permanent failure', async () => {
    let calls = 0;
    const err = await retry(async () => {
      calls++;
      throw new EmbedModelNotFoundError('m');
    }, policy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedModelNotFoundError);
    expect(calls).toBe(1);
  });

  it('gives up once the horizon is over, naming the last failure', async () => {
    const err = await retry(
      async () => {
        throw new OllamaUnavailableError('Ollama refused the connection');
      },
      { horizonMs: 100, baseDelayMs: 20, maxDelayMs: 40 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryHorizonExceededError);
    expect((err as RetryHorizonExceededError).cause).toBeInstanceOf(OllamaUnavailableError);
    expect((err as Error).message).toContain('Ollama refused the connection');
    expect((err as RetryHorizonExceededError).attempts).toBeGreaterThan(1);
  });

  it('stops waiting at once when aborted, with the caller’s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stopping');
    setTimeout(() => controller.abort(reason), 50);
    const t0 = Date.now();
    const err = await retry(
      async () => {
        throw new OllamaUnavailableError('down');
      },
      { horizonMs: 60_000, baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
