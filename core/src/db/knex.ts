import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config.js';

export type { Knex };

// Return BIGINT/COUNT as numbers: our counts and sizes stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export interface DbLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function createDb(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>, log?: DbLogger): Knex {
  return knexFactory({
    // Knex prints to the console by default; route its messages into the process's logger.
    ...(log
      ? {
          log: {
            warn: (m: unknown) => log.warn({ knex: m }, 'knex warning'),
            error: (m: unknown) => log.error({ knex: m }, 'knex error'),
            deprecate: (m: unknown) => log.warn({ knex: m }, 'knex deprecation'),
            debug: () => {},
          },
        }
      : {}),
    client: 'pg',
    connection: config.DATABASE_URL,
    pool: { min: 0, max: config.DATABASE_POOL_MAX },
    acquireConnectionTimeout: 10_000,
  });
}
