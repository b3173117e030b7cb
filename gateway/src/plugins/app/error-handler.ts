import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { classifyRequestError, logRequestError } from '../../lib/request-error.js';
import { describeValidation } from '../../lib/validation.js';

/**
 * The one error handler. Every error body is `{ statusCode, error, message, code }`; a 5xx says
 * only that something went wrong on our side (the details go to the log with the request id),
 * and no body names an internal address. The classification is `classifyRequestError`'s, shared
 * with the /v1 handler.
 */
export default fp(
  async (fastify) => {
    fastify.setErrorHandler((err, request, reply) => {
      const c = classifyRequestError(err);
      let { message } = c;
      let extra = c.details;
      if (c.validation) {
        // Sentences per field (`fields`), so forms can show each next to its input.
        const described = describeValidation(c.validation);
        message = described.message;
        extra = { fields: described.fields };
      }
      logRequestError(request.log, err, c);
      if (c.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(c.retryAfterMs / 1000));

      // Details first: they add facts (e.g. `supported`, `limitBytes`) but never replace the
      // four fields every client reads.
      return reply.code(c.statusCode).send({
        ...extra,
        statusCode: c.statusCode,
        error: STATUS_CODES[c.statusCode] ?? 'Error',
        message,
        code: c.code,
      });
    });

    fastify.setNotFoundHandler((request, reply) =>
      reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
        code: 'ROUTE_NOT_FOUND',
      }),
    );
  },
  { name: 'error-handler' },
);
