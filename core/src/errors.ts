/**
 * Errors with a stable machine-readable `code` and the HTTP status they map to. Route handlers
 * throw these; the gateway's single error handler turns them into
 * `{ statusCode, error, message, code }` bodies. Anything that is not an AppError is a 5xx whose
 * details stay in the log.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'BAD_REQUEST', details?: Record<string, unknown>) {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', code = 'UNAUTHORIZED') {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this', code = 'FORBIDDEN') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found', code = 'NOT_FOUND') {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'CONFLICT') {
    super(409, code, message);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string, code = 'SERVICE_UNAVAILABLE') {
    super(503, code, message);
  }
}

/** The socket-level code under fetch's `TypeError: fetch failed` (ECONNREFUSED, ENOTFOUND, ...). */
export function networkCodeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What a failure means for whoever called the dependency: the HTTP status to answer with, a
 * stable code, and whether the same call may succeed later. `repair` names a fault the finder can
 * mend itself (a lost Qdrant collection is re-created). `retryAfterMs` is the upstream's own
 * `retry-after`, when it sent one.
 */
export interface ErrorClass {
  statusCode: number;
  code: string;
  retryable: boolean;
  repair?: 'collection';
  retryAfterMs?: number;
}

/** Socket-level codes that mean "the service is not there right now". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Ollama's model runner dying mid-request (killed, OOM, GPU reset) reaches the client as HTTP 400
 * (seen with Ollama 0.24: `do embedding request: Post "http://127.0.0.1:…/embedding": EOF`); the
 * next request starts a new runner and succeeds, so these 400s are transient.
 */
const RUNNER_FAILURE =
  /do embedding request|error reading embed response|llama runner (process )?(has )?terminated|model runner has unexpectedly stopped/i;

/** Qdrant 1.x: ``Not found: Collection `name` doesn't exist!`` (404). */
const COLLECTION_MISSING = /collection .*(doesn'?t exist|not (be )?found)/i;

/** Postgres SQLSTATEs worth another try: connection lost or refused, shutdown, overload, conflicts. */
const PG_TRANSIENT = /^(08|53|57P0[1-3]|40001|40P01|55P03)/;

/**
 * Whether an upstream HTTP answer is worth another try (openai-node's rule, plus the two cases
 * above): 408, 429 and 5xx are; other 4xx are not, unless they are a runner failure or a
 * missing collection, which heal (the latter by being re-created).
 */
export function classifyUpstreamStatus(status: number, message = ''): ErrorClass {
  if (status === 404 && COLLECTION_MISSING.test(message))
    return { statusCode: 503, code: 'QDRANT_COLLECTION_MISSING', retryable: true, repair: 'collection' };
  if (status === 408 || status === 504) return { statusCode: 504, code: 'UPSTREAM_TIMEOUT', retryable: true };
  if (status === 429) return { statusCode: 503, code: 'UPSTREAM_RATE_LIMITED', retryable: true };
  if (status >= 500) return { statusCode: 502, code: 'UPSTREAM_ERROR', retryable: true };
  if (status === 400 && RUNNER_FAILURE.test(message))
    return { statusCode: 502, code: 'UPSTREAM_ERROR', retryable: true };
  return { statusCode: 502, code: 'UPSTREAM_REJECTED', retryable: false };
}

/** `retry-after` as milliseconds: seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

/**
 * The one classifier of rattgllm. Every dependency error — typed ones from core (embedder, vector
 * index, parse errors with `permanent`), raw network and timeout errors, HTTP errors of any client
 * (`status`, `statusCode`, `status_code`), Postgres and knex errors — gets a status, a stable code
 * and `retryable`. The REST and `/v1` error handlers and the ingestor's worker all decide with it.
 *
 * Unknown errors are retryable (with status 500): the errors we know to be a person's to fix are
 * all typed (corrupt file, missing model, wrong dimension, a 4xx from a service), so what is left
 * is a fault we cannot pin on the document — giving up on it at once would turn a passing fault
 * into a `failed` document. Retries are bounded by RETRY_HORIZON, and openai-node retries a 500 too.
 */
export function classifyError(err: unknown): ErrorClass {
  const retryAfterMs = parseRetryAfter(field(err, 'retryAfter') ?? headerOf(err, 'retry-after'));
  const withRetryAfter = (c: ErrorClass): ErrorClass =>
    retryAfterMs !== undefined && c.retryAfterMs === undefined ? { ...c, retryAfterMs } : c;
  const name = field(err, 'name');
  if (name === 'AbortError') return { statusCode: 499, code: 'ABORTED', retryable: false };
  if (name === 'TimeoutError' || name === 'KnexTimeoutError')
    return { statusCode: 504, code: 'TIMEOUT', retryable: true };
  if (err instanceof AppError) {
    const own = field(err, 'retryable');
    const permanent = field(err, 'permanent');
    const repair = field(err, 'repair');
    const retryable =
      typeof own === 'boolean' ? own : typeof permanent === 'boolean' ? !permanent : err.statusCode >= 500;
    return withRetryAfter({
      statusCode: err.statusCode,
      code: err.code,
      retryable,
      ...(repair === 'collection' ? { repair } : {}),
      ...(typeof field(err, 'retryAfterMs') === 'number'
        ? { retryAfterMs: field(err, 'retryAfterMs') as number }
        : {}),
    });
  }
  if (field(err, 'permanent') === true) return { statusCode: 422, code: 'PERMANENT', retryable: false };
  const code = networkCodeOf(err);
  if (code && NETWORK_CODES.has(code))
    return { statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE', retryable: true };
  if (code && /^[0-9A-Z]{5}$/.test(code) && field(err, 'severity') !== undefined) {
    // A Postgres error (node-postgres sets `severity` and the SQLSTATE as `code`).
    return PG_TRANSIENT.test(code)
      ? { statusCode: 503, code: 'DATABASE_UNAVAILABLE', retryable: true }
      : { statusCode: 500, code: 'DATABASE_ERROR', retryable: false };
  }
  const status = [field(err, 'status'), field(err, 'statusCode'), field(err, 'status_code')].find(
    (s): s is number => typeof s === 'number' && s >= 400 && s < 600,
  );
  if (status !== undefined) {
    const message = err instanceof Error ? err.message : String(field(err, 'error') ?? '');
    return withRetryAfter(classifyUpstreamStatus(status, message));
  }
  if (err instanceof TypeError && err.message === 'fetch failed')
    return { statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE', retryable: true };
  return { statusCode: 500, code: 'INTERNAL_ERROR', retryable: true };
}

function headerOf(err: unknown, name: string): unknown {
  const headers = field(err, 'headers') ?? field(field(err, 'response'), 'headers');
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, unknown>)[name];
}

/** True for errors worth retrying with backoff (see classifyError for the rule). */
export function isRetryable(err: unknown): boolean {
  return classifyError(err).retryable;
}
