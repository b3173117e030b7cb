import { AppError } from '../errors.js';

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

/** Qdrant answered with an error status; 5xx and 429 are retryable, 4xx are not. */
export class QdrantRequestError extends VectorIndexError {
  constructor(
    message: string,
    readonly upstreamStatus: number,
    details?: Record<string, unknown>,
  ) {
    const retryable = upstreamStatus >= 500 || upstreamStatus === 429 || upstreamStatus === 408;
    super(retryable ? 503 : 502, retryable ? 'QDRANT_ERROR' : 'QDRANT_REQUEST_REJECTED', message, retryable, {
      ...details,
      upstreamStatus,
    });
  }
}

/** The existing collection does not have the shape this configuration needs (start-up error). */
export class CollectionMismatchError extends VectorIndexError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(500, 'QDRANT_COLLECTION_MISMATCH', message, false, details);
  }
}
