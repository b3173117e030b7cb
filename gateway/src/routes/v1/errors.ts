import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '@rattgllm/core';
import { clientFaultOf, isDatabaseUnavailable, publicView } from '../../lib/public-error.js';

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

export function toOpenAiError(err: FastifyError | AppError | Error): {
  status: number;
  body: OpenAiErrorBody;
} {
  let status = 500;
  let code: string | null = 'internal_error';
  let message = 'Internal server error';
  let param: string | null = null;
  const e = err as FastifyError & {
    validation?: { instancePath?: string; params?: { missingProperty?: string } }[];
  };

  const fault = clientFaultOf(err);
  if (err instanceof AppError) {
    const remap = REMAP[err.code];
    status = remap?.status ?? err.statusCode;
    code = (remap?.code ?? err.code).toLowerCase();
    message = publicView(err.statusCode, err.message).message;
    if (err instanceof OpenAiError) param = err.param;
  } else if (fault) {
    status = fault.statusCode;
    code = fault.code.toLowerCase();
    message = fault.message;
  } else if (e.validation) {
    status = 400;
    code = 'invalid_request';
    message = err.message;
    const first = e.validation[0];
    const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const missing = first?.params?.missingProperty;
    param = [path, missing].filter(Boolean).join('.') || null;
  } else if (isDatabaseUnavailable(err)) {
    status = 503;
    code = 'database_unavailable';
    message = 'The database is unreachable; try again in a moment';
  } else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    status = e.statusCode;
    code = typeof e.code === 'string' ? e.code.toLowerCase() : 'bad_request';
    message = publicView(status, err.message).message;
  }
  return { status, body: { error: { message, type: errorType(status), param, code } } };
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
  fastify.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    // A body over the route's limit is an invalid request in OpenAI's terms (a 400 naming the limit).
    const { status, body } =
      (err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? tooLarge(request.routeOptions.bodyLimit ?? fastify.initialConfig.bodyLimit ?? 0)
        : toOpenAiError(err);
    if (status >= 500 && status !== 502 && status !== 503 && status !== 504)
      request.log.error({ err }, 'request failed');
    else request.log.info({ status, code: body.error.code }, body.error.message);
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
