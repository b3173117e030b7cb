import { AppError, classifyUpstreamStatus, networkCodeOf, parseRetryAfter } from '../errors.js';

/**
 * Errors from the vector index (Qdrant). Like the embedder's, each has a stable `code` and
 * `retryable` (service down, 5xx, timeout → retry; bad request, wrong collection shape → act).
 */
export class VectorIndexError extends AppError {
  constructor(
    statusCode: number,
    code: string,
    message: string,
    readonly retryable: boolean,
    details?: Record<string, unknown>,
  ) {
    super(statusCode, code, message, details);
  }
}

/** Qdrant could not be reached or did not answer in time. */
export class QdrantUnavailableError extends VectorIndexError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(503, 'QDRANT_UNAVAILABLE', message, true, details);
  }
}

/**
 * Qdrant answered with an error status; retryable as classifyUpstreamStatus says (5xx, 429, 408).
 * `retryAfterMs` is Qdrant's `retry-after` (it sends one with 429 and 503 when overloaded).
 */
export class QdrantRequestError extends VectorIndexError {
  constructor(
    message: string,
    readonly upstreamStatus: number,
    details?: Record<string, unknown>,
    readonly retryAfterMs?: number,
  ) {
    const { retryable } = classifyUpstreamStatus(upstreamStatus, message);
    super(retryable ? 503 : 502, retryable ? 'QDRANT_ERROR' : 'QDRANT_REQUEST_REJECTED', message, retryable, {
      ...details,
      upstreamStatus,
    });
  }
}

/**
 * The collection is gone (deleted, or Qdrant's volume lost). Transient and repairable: the
 * vector index re-creates it on the spot; documents whose points were in it are re-queued.
 */
export class CollectionMissingError extends VectorIndexError {
  readonly repair = 'collection' as const;
  constructor(message: string, details?: Record<string, unknown>) {
    super(503, 'QDRANT_COLLECTION_MISSING', message, true, details);
  }
}

/** The existing collection does not have the shape this configuration needs (start-up error). */
export class CollectionMismatchError extends VectorIndexError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(500, 'QDRANT_COLLECTION_MISMATCH', message, false, details);
  }
}

/** Turns whatever the Qdrant client threw into a VectorIndexError subclass (or passes it on). */
export function translateQdrantError(err: unknown, what: string, url: string, collection: string): unknown {
  if (err instanceof VectorIndexError) return err;
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number') {
    const data = (err as { data?: { status?: { error?: string } } }).data;
    const reason = data?.status?.error ?? (err as Error).message;
    const message = `Qdrant at ${url} refused to ${what}: ${reason} (HTTP ${status})`;
    if (classifyUpstreamStatus(status, reason).repair === 'collection')
      return new CollectionMissingError(`Qdrant collection ${collection} is missing (${what})`, {
        url,
        collection,
      });
    const headers = (err as { headers?: Headers }).headers;
    const retryAfter = parseRetryAfter(headers?.get?.('retry-after') ?? undefined);
    return new QdrantRequestError(message, status, { url, collection }, retryAfter);
  }
  const name = (err as { name?: unknown }).name;
  if (name === 'QdrantClientTimeoutError')
    return new QdrantUnavailableError(`Qdrant at ${url} timed out (${what})`, { url });
  const code = networkCodeOf(err);
  if (code === 'ECONNREFUSED')
    return new QdrantUnavailableError(`Qdrant at ${url} refused the connection`, { url, code });
  if (code || err instanceof TypeError) {
    return new QdrantUnavailableError(
      `Qdrant at ${url} could not be reached (${code ?? (err as Error).message})`,
      { url, code },
    );
  }
  return err;
}
