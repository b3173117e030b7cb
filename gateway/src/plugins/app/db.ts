import fp from 'fastify-plugin';
import { createDb, type Knex } from '@rattgllm/core';

declare module 'fastify' {
  interface FastifyInstance {
    db: Knex;
  }
}

/** The Postgres pool (knex). Only repositories use it directly. */
export default fp(
  async (fastify) => {
    const db = createDb(fastify.config, fastify.log);
    fastify.decorate('db', db);
    fastify.addHook('onClose', async () => db.destroy());
  },
  { name: 'db', dependencies: ['config'] },
);
