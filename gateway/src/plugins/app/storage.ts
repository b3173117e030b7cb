import fp from 'fastify-plugin';
import { createStorage, type Storage } from '@rattgllm/core';

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
  }
}

/** Object storage for original files. The bucket is created at start when missing. */
export default fp(
  async (fastify) => {
    const storage = createStorage(fastify.config);
    fastify.decorate('storage', storage);
    // Storage being down must not stop the gateway from starting: sign-in and search still work,
    // and uploads answer 503 until it is back (put() reports it).
    fastify.addHook('onReady', async () => {
      await storage.ensureBucket().catch((err: unknown) => {
        fastify.log.error({ err }, 'object storage is not reachable at start; uploads will fail until it is');
      });
    });
  },
  { name: 'storage', dependencies: ['config'] },
);
