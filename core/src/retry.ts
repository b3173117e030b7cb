import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.js';
import { AppError, classifyError } from './errors.js';

/** How long transient failures are retried, and how the pauses grow (all in ms). */
export interface RetryPolicy {
  /** Give up once this much time has passed since the first failure. */
  horizonMs: number;
  /** The first pause; each further one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryAttempt {
  /** 1 for the first retry. */
  attempt: number;
  error: unknown;
  delayMs: number;
  nextAttemptAt: Date;
}

export interface RetryOptions extends RetryPolicy {
  signal?: AbortSignal | undefined;
  /** Called before each pause (e.g. to show a document as `waiting`). */
  onRetry?: ((attempt: RetryAttempt) => Promise<void> | void) | undefined;
  /** When the first failure happened, if earlier than this call (a job continuing a horizon). */
  since?: number | undefined;
}

/** RETRY_HORIZON, RETRY_BASE_DELAY and RETRY_MAX_DELAY as a policy. */
export function retryPolicy(
  config: Pick<Config, 'RETRY_HORIZON' | 'RETRY_BASE_DELAY' | 'RETRY_MAX_DELAY'>,
): RetryPolicy {
  return {
    horizonMs: config.RETRY_HORIZON * 1000,
    baseDelayMs: config.RETRY_BASE_DELAY * 1000,
    maxDelayMs: config.RETRY_MAX_DELAY * 1000,
  };
}

/**
 * The pause before retry number `attempt`: capped exponential backoff with "equal jitter" (half
 * the step fixed, half random, so a fleet of workers that failed together does not come back
 * together, yet the pause still grows), never shorter than the upstream's `retry-after`.
 */
export function backoffDelay(
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const delay = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(delay, retryAfterMs ?? 0));
}

/** Thrown when transient failures outlast the horizon; `cause` is the last failure. */
export class RetryHorizonExceededError extends AppError {
  readonly retryable = false;
  constructor(
    readonly attempts: number,
    readonly elapsedMs: number,
    cause: unknown,
  ) {
    super(
      503,
      'RETRY_HORIZON_EXCEEDED',
      `${cause instanceof Error ? cause.message : String(cause)} — still failing after ${attempts} attempts ` +
        `over ${Math.round(elapsedMs / 1000)}s (RETRY_HORIZON); fix the service, then reindex the document`,
    );
    this.cause = cause;
  }
}

/**
 * Run `fn` until it succeeds, retrying what classifyError calls retryable with backoffDelay
 * pauses while the horizon lasts. Permanent errors and the caller's abort end it at once.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const since = options.since ?? Date.now();
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      const cls = classifyError(err);
      if (!cls.retryable) throw err;
      const delayMs = backoffDelay(options, attempt + 1, cls.retryAfterMs);
      const elapsed = Date.now() - since;
      if (elapsed + delayMs > options.horizonMs)
        throw new RetryHorizonExceededError(attempt + 1, elapsed, err);
      await options.onRetry?.({
        attempt: attempt + 1,
        error: err,
        delayMs,
        nextAttemptAt: new Date(Date.now() + delayMs),
      });
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => {
        throw options.signal?.reason;
      });
    }
  }
}
