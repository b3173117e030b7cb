import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { finishOpenApi } from '../../lib/openapi.js';

/** OpenAPI document generated from the route schemas, at `/docs/json`, and a page at `/docs`. */
export default fp(
  async (fastify) => {
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'rattgllm gateway',
          description: 'Accounts, documents, search and the OpenAI-compatible RAG endpoint.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: {
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description: 'A JWT from POST /auth/login, or an API key (rk_…)',
            },
          },
        },
      },
    });
    await fastify.register(swaggerUi, {
      routePrefix: '/docs',
      transformSpecification: (spec, request) =>
        finishOpenApi(spec as Record<string, unknown>, {
          proxied: request.headers['x-forwarded-for'] !== undefined,
        }),
    });
  },
  { name: 'swagger' },
);
