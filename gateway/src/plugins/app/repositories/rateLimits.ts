import { createHash } from 'node:crypto';
import type { Knex } from '@rattgllm/core';

export interface RateLimitCount {
  /** Hits in the current window, this one included. */
  current: number;
  /** Milliseconds until the window ends. */
  ttl: number;
}

/**
 * Rate-limit counters in Postgres, so every gateway replica counts the same hits. Keys are
 * stored as SHA-256 (they hold IP addresses and user names, which need not sit in a table in
 * clear, and a hash is a valid key whatever bytes the name held). Windows use the database's
 * clock, so replicas with drifting clocks still agree.
 */
export function rateLimitsRepository(db: Knex) {
  const digest = (key: string) => createHash('sha256').update(key).digest('hex');
  let calls = 0;

  return {
    /** Counts one hit atomically: a new or expired key starts a window of `windowMs`. */
    async hit(key: string, windowMs: number): Promise<RateLimitCount> {
      // Every hundredth hit sweeps expired windows, so the table stays as small as the traffic.
      if (++calls % 100 === 0)
        void db('rate_limits')
          .where('reset_at', '<', db.fn.now())
          .delete()
          .catch(() => {});
      const { rows } = await db.raw<{ rows: { hits: number; ttl: string }[] }>(
        `INSERT INTO rate_limits (key, hits, reset_at)
           VALUES (?, 1, now() + ? * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.reset_at <= now() THEN 1 ELSE rate_limits.hits + 1 END,
           reset_at = CASE WHEN rate_limits.reset_at <= now() THEN EXCLUDED.reset_at ELSE rate_limits.reset_at END
         RETURNING hits, ceil(extract(epoch FROM reset_at - now()) * 1000) AS ttl`,
        [digest(key), windowMs],
      );
      const row = rows[0]!;
      return { current: row.hits, ttl: Math.max(0, Number(row.ttl)) };
    },
    /** The current count without counting a hit. */
    async read(key: string): Promise<RateLimitCount> {
      const row = await db('rate_limits')
        .where('key', digest(key))
        .where('reset_at', '>', db.fn.now())
        .first<{ hits: number; ttl: string } | undefined>(
          'hits',
          db.raw('ceil(extract(epoch FROM reset_at - now()) * 1000) AS ttl'),
        );
      return row ? { current: row.hits, ttl: Math.max(0, Number(row.ttl)) } : { current: 0, ttl: 0 };
    },
  };
}
export type RateLimitsRepository = ReturnType<typeof rateLimitsRepository>;
