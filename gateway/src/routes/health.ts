import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const Dependency = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  reason: Type.Optional(Type.String()),
});

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Dependency),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  fastify.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Each dependency: postgres, qdrant, embedder, chat (ok, degraded or down, with a reason)',
        description:
          '200 while the gateway can serve its core (`status` is `degraded` when search or chat is ' +
          'affected); 503 only when Postgres is down or its migrations are pending.',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (request, reply) => {
      const report = await fastify.readiness.report();
      if (report.status !== 'ok')
        request.log.warn({ checks: report.checks }, 'readiness: not all dependencies ok');
      return reply.code(report.status === 'unavailable' ? 503 : 200).send(report);
    },
  );
};

export default routes;
