import fp from 'fastify-plugin';
import { startQueue, type PgBoss } from '@rattgllm/core';

declare module 'fastify' {
  interface FastifyInstance {
    /** The job queue (pg-boss), started on first use so the gateway can start while Postgres is down. */
    queue(): Promise<PgBoss>;
  }
}

export default fp(
  async (fastify) => {
    let starting: Promise<PgBoss> | null = null;
    fastify.decorate('queue', () => {
      starting ??= startQueue(fastify.config, {
        work: false,
        onError: (err) => fastify.log.error({ err }, 'job queue error'),
      }).catch((err: unknown) => {
        starting = null;
        throw err;
      });
      return starting;
    });
    fastify.addHook('onClose', async () => {
      if (starting) await (await starting.catch(() => null))?.stop({ graceful: false, close: true });
    });
  },
  { name: 'queue', dependencies: ['config'] },
);
