import fp from 'fastify-plugin';
import { createGatewayCaches, type GatewayCaches } from '../../lib/cache/gateway-caches.js';
import { dropCachesOnLocalWrites } from '../../lib/cache/local-writes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** API keys, users and document access facts in memory, dropped on every announced change. */
    caches: GatewayCaches;
  }
}

/**
 * The gateway's caches and their LISTEN connection (GATEWAY_CACHE_TTL_MS; 0 = off). While the
 * connection is down every read goes to Postgres, so a missed change can never be served.
 */
export default fp(
  async (fastify) => {
    const caches = createGatewayCaches({
      databaseUrl: fastify.config.DATABASE_URL,
      ttlMs: fastify.config.GATEWAY_CACHE_TTL_MS,
      windowDocuments: fastify.config.PASSAGE_WINDOW_CACHE_DOCUMENTS,
      log: fastify.log.child({ component: 'caches' }),
    });
    const stopWatching = dropCachesOnLocalWrites(fastify.db, caches);
    fastify.decorate('caches', caches);
    fastify.addHook('onClose', async () => {
      stopWatching();
      await caches.close();
    });
  },
  { name: 'caches', dependencies: ['config', 'db'] },
);
