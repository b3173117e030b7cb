import fp from 'fastify-plugin';
import { warnInsecureDefaults, type Config } from '@rattgllm/core';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

/** Makes the validated configuration available as `fastify.config` and warns about demo values. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    fastify.decorate('config', config);
    warnInsecureDefaults(fastify.log, config);
  },
  { name: 'config' },
);
