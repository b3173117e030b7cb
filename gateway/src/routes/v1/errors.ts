import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '@rattgllm/core';

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

const DB_DOWN = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  '57P01',
  '57P03',
  '53300',
]);

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

  if (err instanceof AppError) {
    const remap = REMAP[err.code];
    status = remap?.status ?? err.statusCode;
    code = (remap?.code ?? err.code).toLowerCase();
    message = err.message;
    if (err instanceof OpenAiError) param = err.param;
  } else if (e.validation) {
    status = 400;
    code = 'invalid_request';
    message = err.message;
    const first = e.validation[0];
    const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const missing = first?.params?.missingProperty;
    param = [path, missing].filter(Boolean).join('.') || null;
  } else if (e.name === 'KnexTimeoutError' || (typeof e.code === 'string' && DB_DOWN.has(e.code))) {
    status = 503;
    code = 'database_unavailable';
    message = 'The database is unreachable; try again in a moment';
  } else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    status = e.statusCode;
    code = typeof e.code === 'string' ? e.code.toLowerCase() : 'bad_request';
    message = err.message;
  }
  return { status, body: { error: { message, type: errorType(status), param, code } } };
}

/** Scoped to the /v1 plugin: its routes answer errors the way OpenAI's API does. */
export function installOpenAiErrors(fastify: FastifyInstance): void {
  fastify.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    const { status, body } = toOpenAiError(err);
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
