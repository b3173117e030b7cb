import type { FastifyBaseLogger } from 'fastify';
import { AppError, classifyError, type ErrorClass } from '@rattgllm/core';
import { clientFaultOf, isDatabaseUnavailable, publicView } from './public-error.js';
import type { ValidationIssue } from './validation.js';

/** Fastify's own client-error codes, renamed to the stable codes our API documents. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/** What a client is told about a dependency failure that is not one of our typed errors. */
const DEPENDENCY_MESSAGES: Record<number, string> = {
  502: 'A service this request needs failed; try again in a moment',
  503: 'A service this request needs is unavailable; try again in a moment',
  504: 'A service this request needs did not answer in time; try again in a moment',
};

/**
 * An error as an HTTP answer: core's class (status, stable code, retryable) plus the words a
 * client may see. `validation` carries the schema issues, which each API words its own way.
 */
export interface RequestErrorClass extends ErrorClass {
  message: string;
  details: Record<string, unknown>;
  validation?: ValidationIssue[];
}

type ErrorLike = Error & { statusCode?: unknown; code?: unknown; validation?: unknown };

/**
 * The one classification both error handlers (REST and the OpenAI-shaped /v1) answer with.
 * First what is the request's own fault although it surfaces below the routes (schema
 * validation, Fastify's 4xx, values Postgres refuses, broken multipart); everything else is
 * decided by core's `classifyError`, the rule the ingestor's worker uses too. A raw connection
 * error that reaches a handler is Postgres's (every other dependency's client wraps its own), so
 * it is named that way. A 500 never says more than that something failed on our side.
 */
export function classifyRequestError(err: unknown): RequestErrorClass {
  const e = err as ErrorLike;
  const fault = clientFaultOf(err);
  if (fault) return { ...fault, retryable: false, details: {} };
  if (!(err instanceof AppError) && Array.isArray(e?.validation))
    return {
      statusCode: 400,
      code: 'VALIDATION_ERROR',
      retryable: false,
      message: e.message,
      details: {},
      validation: e.validation as ValidationIssue[],
    };
  const fastifyCode = typeof e?.code === 'string' && e.code.startsWith('FST_') ? e.code : undefined;
  if (!(err instanceof AppError) && typeof e?.statusCode === 'number') {
    const status = e.statusCode;
    if (status >= 400 && status < 500) {
      const code =
        (fastifyCode && FASTIFY_CODES[fastifyCode]) ?? (typeof e.code === 'string' ? e.code : 'BAD_REQUEST');
      return {
        statusCode: status,
        code,
        retryable: status === 408 || status === 429,
        message: publicView(status, e.message).message,
        details: {},
      };
    }
    // Fastify's own 5xx are about us, not an upstream.
    if (fastifyCode) return internal();
  }
  const DATABASE_DOWN = 'The database is unreachable; try again in a moment';
  if (isDatabaseUnavailable(err))
    return {
      statusCode: 503,
      code: 'DATABASE_UNAVAILABLE',
      retryable: true,
      message: DATABASE_DOWN,
      details: {},
    };
  const c = classifyError(err);
  if (err instanceof AppError) {
    const { message, details } = publicView(err.statusCode, err.message, err.details);
    return { ...c, message, details };
  }
  if (c.statusCode === 500) return { ...internal(), retryable: c.retryable };
  const message =
    c.code === 'DATABASE_UNAVAILABLE'
      ? DATABASE_DOWN
      : (DEPENDENCY_MESSAGES[c.statusCode] ??
        (c.code === 'ABORTED' ? 'The request was aborted' : 'Request failed'));
  return { ...c, message, details: {} };
}

function internal(): RequestErrorClass {
  return {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    retryable: false,
    message: 'Internal server error',
    details: {},
  };
}

/**
 * One log line per failed request: a failure of ours is an error (with the stack); a dependency
 * that is down or slow is a warning (it heals, and the operator should still see it); the
 * request's own fault is info.
 */
export function logRequestError(log: FastifyBaseLogger, err: unknown, c: RequestErrorClass): void {
  const fields = { statusCode: c.statusCode, code: c.code, retryable: c.retryable };
  if (c.statusCode >= 502 && c.statusCode <= 504) log.warn({ ...fields, err }, c.message);
  else if (c.statusCode >= 500) log.error({ err }, 'request failed');
  else log.info(fields, c.message);
}
