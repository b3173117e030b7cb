import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config.js';

export type { Knex };

// Return BIGINT/COUNT as numbers: our counts and sizes stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export function createDb(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>): Knex {
  return knexFactory({
    client: 'pg',
    connection: config.DATABASE_URL,
    pool: { min: 0, max: config.DATABASE_POOL_MAX },
    acquireConnectionTimeout: 10_000,
  });
}
