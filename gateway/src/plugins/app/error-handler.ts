import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { AppError } from '@rattgllm/core';
import type { FastifyError } from 'fastify';
import { clientFaultOf, isDatabaseUnavailable, publicView } from '../../lib/public-error.js';
import { describeValidation, type ValidationIssue } from '../../lib/validation.js';

/** Fastify's own client-error codes, renamed to the stable codes our API documents. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/**
 * The one error handler. Every error body is `{ statusCode, error, message, code }`; a 5xx says
 * only that something went wrong on our side (the details go to the log with the request id),
 * and no body names an internal address (`publicView`).
 */
export default fp(
  async (fastify) => {
    fastify.setErrorHandler((err: FastifyError | AppError, request, reply) => {
      let statusCode = 500;
      let code = 'INTERNAL_ERROR';
      let message = 'Internal server error';
      let extra: Record<string, unknown> = {};

      const fault = clientFaultOf(err);
      if (err instanceof AppError) {
        ({ statusCode, code } = err);
        ({ message, details: extra } = publicView(err.statusCode, err.message, err.details));
      } else if (fault) {
        ({ statusCode, code, message } = fault);
      } else if (isDatabaseUnavailable(err)) {
        statusCode = 503;
        code = 'DATABASE_UNAVAILABLE';
        message = 'The database is unreachable; try again in a moment';
      } else if ('validation' in err && err.validation) {
        statusCode = 400;
        code = 'VALIDATION_ERROR';
        // Sentences per field (`fields`), so forms can show each next to its input.
        const described = describeValidation(err.validation as ValidationIssue[]);
        message = described.message;
        extra = { fields: described.fields };
      } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        statusCode = err.statusCode;
        code = FASTIFY_CODES[err.code] ?? err.code ?? 'BAD_REQUEST';
        message = publicView(statusCode, err.message).message;
      } else if (typeof err.statusCode === 'number' && err.statusCode > 500) {
        // 502/503/504 come from our own upstream checks; their messages are written for users.
        statusCode = err.statusCode;
        code = err.code ?? 'UPSTREAM_ERROR';
        message = publicView(statusCode, err.message).message;
      }

      if (statusCode >= 500) request.log.error({ err }, 'request failed');
      else request.log.info({ code, statusCode }, message);

      // Details first: they add facts (e.g. `supported`, `limitBytes`) but never replace the
      // four fields every client reads.
      return reply.code(statusCode).send({
        ...extra,
        statusCode,
        error: STATUS_CODES[statusCode] ?? 'Error',
        message,
        code,
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
