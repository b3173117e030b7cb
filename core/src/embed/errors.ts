import { AppError } from '../errors.js';

// `retryable` here is what classifyError (../errors.ts) reports for these errors; which upstream
// answer becomes which class is decided by classifyUpstreamStatus in the embedder.

/**
 * Errors from the embedding service (Ollama), each with a stable `code`, an HTTP status for the
 * gateway, and `retryable`: true when the same call may succeed later (service down, 5xx,
 * timeout), false when a person has to act first (model missing, wrong dimension, bad request).
 * The ingestor's job queue retries only the retryable ones; the messages are written so they can
 * be shown as a document's `error` as they are.
 */
export abstract class EmbedderError extends AppError {
  abstract readonly retryable: boolean;
}

/** Ollama could not be reached at all (connection refused, DNS, reset). */
export class OllamaUnavailableError extends EmbedderError {
  readonly retryable = true;
  constructor(message: string, details?: Record<string, unknown>) {
    super(503, 'OLLAMA_UNAVAILABLE', message, details);
  }
}

/** Ollama answered with a 5xx, 429, or a 400 that is a runner failure (model failed to load, out of memory, runner crashed). */
export class OllamaServerError extends EmbedderError {
  readonly retryable = true;
  constructor(message: string, details?: Record<string, unknown>) {
    super(502, 'OLLAMA_SERVER_ERROR', message, details);
  }
}

/** No answer within EMBED_TIMEOUT seconds. */
export class OllamaTimeoutError extends EmbedderError {
  readonly retryable = true;
  constructor(message: string, details?: Record<string, unknown>) {
    super(504, 'OLLAMA_TIMEOUT', message, details);
  }
}

/** The configured model is not pulled on this Ollama. Retrying will not help until someone pulls it. */
export class EmbedModelNotFoundError extends EmbedderError {
  readonly retryable = false;
  constructor(readonly model: string) {
    super(503, 'EMBED_MODEL_NOT_FOUND', `model ${model} not found — run \`ollama pull ${model}\``, { model });
  }
}

/** The model returns vectors of another size than EMBED_DIM (and the Qdrant collection) expect. */
export class EmbedDimensionMismatchError extends EmbedderError {
  readonly retryable = false;
  constructor(
    readonly model: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      500,
      'EMBED_DIMENSION_MISMATCH',
      `model ${model} returns ${actual}-dimensional embeddings but EMBED_DIM is ${expected}; ` +
        `set EMBED_DIM=${actual} (and re-create the Qdrant collection) or use a model with ${expected} dimensions`,
      { model, expected, actual },
    );
  }
}

/** Ollama rejected the request (4xx other than a missing model): a bug or bad input, not transient. */
export class OllamaRequestError extends EmbedderError {
  readonly retryable = false;
  constructor(message: string, details?: Record<string, unknown>) {
    super(502, 'OLLAMA_REQUEST_REJECTED', message, details);
  }
}
