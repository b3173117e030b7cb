import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { RateLimitsRepository } from '../app/repositories/rateLimits.js';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit that keeps its counts in Postgres (`rate_limits`), so the
 * limits hold however many gateways run. The plugin constructs stores itself (`new Store(opts)`),
 * hence a class made around the repository. A store error (Postgres down) fails the request
 * with the error handler's 503, rather than letting attempts through uncounted.
 */
function postgresStore(repo: RateLimitsRepository) {
  return class PostgresRateLimitStore {
    incr(key: string, cb: Callback, timeWindow: number): void {
      repo.hit(key, timeWindow).then((r) => cb(null, r), cb);
    }
    read(key: string, cb: Callback): void {
      repo.read(key).then((r) => cb(null, r), cb);
    }
    child(): PostgresRateLimitStore {
      return new PostgresRateLimitStore();
    }
  };
}

/** Rate limiting is opt-in per route (`global: false`); login uses it per IP and per username. */
export default fp(
  async (fastify) => {
    await fastify.register(rateLimit, {
      global: false,
      store: postgresStore(fastify.repos.rateLimits),
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'RATE_LIMITED',
        message: `Too many attempts; try again in ${context.after}.`,
      }),
    });
  },
  { name: 'rate-limit', dependencies: ['repositories'] },
);
