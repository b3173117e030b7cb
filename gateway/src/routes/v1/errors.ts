import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '@rattgllm/core';
import { classifyRequestError, logRequestError, type RequestErrorClass } from '../../lib/request-error.js';

/** OpenAI's error body: `{error: {message, type, param, code}}`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorType(status: number): string {
  if (status === 400 || status === 404 || status === 413 || status === 415 || status === 422)
    return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return 'api_error';
}

export class OpenAiError extends AppError {
  constructor(
    statusCode: number,
    code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(statusCode, code, message);
  }
}

// Embedder/upstream outages as an OpenAI client expects them: 502 down, 504 slow, 404 not pulled.
const REMAP: Record<string, { status: number; code?: string }> = {
  OLLAMA_UNAVAILABLE: { status: 502 },
  OLLAMA_SERVER_ERROR: { status: 502 },
  OLLAMA_TIMEOUT: { status: 504 },
  EMBED_MODEL_NOT_FOUND: { status: 404, code: 'model_not_found' },
  UPSTREAM_MODEL_NOT_FOUND: { status: 404, code: 'model_not_found' },
};

/**
 * An error in OpenAI's shape, classified as the REST handler does (`classifyRequestError`); only
 * the presentation differs: lower-case codes, OpenAI's `type`, `param` for the field at fault.
 */
export function toOpenAiError(err: unknown): {
  status: number;
  body: OpenAiErrorBody;
  class: RequestErrorClass;
} {
  const c = classifyRequestError(err);
  const remap = err instanceof AppError ? REMAP[err.code] : undefined;
  const status = remap?.status ?? c.statusCode;
  let code = (remap?.code ?? c.code).toLowerCase();
  let param: string | null = err instanceof OpenAiError ? err.param : null;
  if (c.validation) {
    code = 'invalid_request';
    const first = c.validation[0];
    const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const missing = first?.params?.missingProperty;
    param = [path, typeof missing === 'string' ? missing : ''].filter(Boolean).join('.') || null;
  }
  return {
    status,
    body: { error: { message: c.message, type: errorType(status), param, code } },
    class: { ...c, statusCode: status },
  };
}

function tooLarge(limitBytes: number): { status: number; body: OpenAiErrorBody } {
  const mib = Math.round((limitBytes / 1024 / 1024) * 10) / 10;
  return {
    status: 400,
    body: {
      error: {
        message: `The request body is larger than ${mib} MiB, the most this endpoint accepts`,
        type: 'invalid_request_error',
        param: null,
        code: 'request_too_large',
      },
    },
  };
}

/** Scoped to the /v1 plugin: its routes answer errors the way OpenAI's API does. */
export function installOpenAiErrors(fastify: FastifyInstance): void {
  fastify.setErrorHandler((err, request, reply) => {
    // A body over the route's limit is an invalid request in OpenAI's terms (a 400 naming the limit).
    if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const { status, body } = tooLarge(
        request.routeOptions.bodyLimit ?? fastify.initialConfig.bodyLimit ?? 0,
      );
      request.log.info({ statusCode: status, code: body.error.code }, body.error.message);
      return reply.code(status).send(body);
    }
    const { status, body, class: c } = toOpenAiError(err);
    logRequestError(request.log, err, c);
    if (c.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(c.retryAfterMs / 1000));
    return reply.code(status).send(body);
  });
  fastify.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
        type: 'invalid_request_error',
        param: null,
        code: 'route_not_found',
      },
    } satisfies OpenAiErrorBody),
  );
}
