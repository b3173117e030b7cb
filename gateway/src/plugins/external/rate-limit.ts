import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';

/**
 * Rate limiting is opt-in per route (`global: false`); login uses it per IP and per username.
 * The in-memory store is enough for one gateway; several replicas would each count on their own.
 */
export default fp(
  async (fastify) => {
    await fastify.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'RATE_LIMITED',
        message: `Too many attempts; try again in ${context.after}.`,
      }),
    });
  },
  { name: 'rate-limit' },
);
