import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { migrationsCurrent } from '@rattgllm/core';

const Check = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/health',
    { schema: { tags: ['health'], summary: 'The process is up', response: { 200: Check } } },
    async () => ({ status: 'ok' as const }),
  );

  fastify.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Postgres is reachable and the schema is current',
        response: { 200: Check, 503: Check },
      },
    },
    async (request, reply) => {
      const checks: Record<string, string> = {};
      try {
        await fastify.db.raw('select 1');
        checks.postgres = 'ok';
        checks.migrations = (await migrationsCurrent(fastify.db)) ? 'ok' : 'pending: run `npm run migrate`';
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        checks.postgres = 'unreachable';
      }
      const ok = Object.values(checks).every((v) => v === 'ok');
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
    },
  );
};

export default routes;
