import { Agent, type Dispatcher } from 'undici';
import { AppError, networkCodeOf } from '@rattgllm/core';
import { streamRequest, type UpstreamStream } from './llm-stream.js';

export type { UpstreamStream } from './llm-stream.js';

/**
 * The OpenAI-compatible chat upstream (Ollama's `/v1` by default), over one undici Agent with
 * keep-alive. Non-2xx answers and network failures become `UpstreamError`s with the status the
 * gateway answers with, the way openai-node's `APIError.generate` maps statuses.
 */
export class UpstreamError extends AppError {
  constructor(statusCode: number, code: string, message: string, details?: Record<string, unknown>) {
    super(statusCode, code, message, details);
  }
}

export class UpstreamModelNotFoundError extends UpstreamError {
  constructor(readonly model: string) {
    super(
      404,
      'UPSTREAM_MODEL_NOT_FOUND',
      `The chat model "${model}" is not available on the LLM server; pull it first (\`ollama pull ${model}\`)`,
      { model },
    );
  }
}

export interface LlmClientOptions {
  baseUrl: string;
  /** Longest wait for the answer's headers, and between two body chunks (ms). */
  timeoutMs: number;
  /** For OpenAI-compatible servers that want one (sent as a Bearer token); Ollama needs none. */
  apiKey?: string;
  connections?: number;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

const ERROR_BODY_LIMIT = 16 * 1024;

/** Reads at most ERROR_BODY_LIMIT bytes of an error answer, for its message. */
async function readErrorMessage(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    /* the message is best effort */
  } finally {
    body.destroy();
  }
  return errorMessage(text);
}

/** The message of an error answer's body: OpenAI's `error.message`, Ollama's `error`, or the text. */
function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 500).trim() || 'no details';
}

/** The error for a non-2xx answer to a request for `model`. */
function upstreamFailure(statusCode: number, message: string, model: unknown): UpstreamError {
  if (statusCode === 404 && typeof model === 'string' && /not found|does not exist/i.test(message))
    return new UpstreamModelNotFoundError(model);
  if (statusCode >= 400 && statusCode < 500 && statusCode !== 401 && statusCode !== 403)
    // The client's request, as we forwarded it, was refused: their problem, with the upstream's words.
    return new UpstreamError(
      statusCode,
      'UPSTREAM_REJECTED',
      `The LLM server refused the request: ${message}`,
      {
        upstreamStatus: statusCode,
      },
    );
  return new UpstreamError(502, 'UPSTREAM_ERROR', `The LLM server failed: ${message} (HTTP ${statusCode})`, {
    upstreamStatus: statusCode,
  });
}

export interface LlmClient {
  readonly baseUrl: string;
  /** POST /chat/completions; resolves once a 2xx answer's headers arrived (the body is a stream). */
  chatCompletions(body: Record<string, unknown>, signal: AbortSignal): Promise<UpstreamResponse>;
  /** POST /chat/completions of a streamed answer: resolves at a 2xx answer's headers (llm-stream.ts). */
  chatStream(body: Record<string, unknown>, signal: AbortSignal): Promise<UpstreamStream>;
  /** GET /models → the upstream's model ids. */
  listModels(signal?: AbortSignal): Promise<{ id: string; created?: number; owned_by?: string }[]>;
  close(): Promise<void>;
}

export function createLlmClient(options: LlmClientOptions): LlmClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  // Parsed once: a URL string per request is parsed by undici on every call.
  const { origin, pathname } = new URL(baseUrl);
  const basePath = pathname.replace(/\/+$/, '');
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const dispatcher = new Agent({
    connections: options.connections ?? 512,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 10_000,
  });

  function translate(err: unknown, signal: AbortSignal | undefined): unknown {
    // The caller went away: their reason, unchanged; it is not the upstream's fault.
    if (signal?.aborted) return signal.reason ?? err;
    if (err instanceof UpstreamError) return err;
    const code = networkCodeOf(err);
    const seconds = Math.round(options.timeoutMs / 1000);
    if (
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT'
    )
      return new UpstreamError(
        504,
        'UPSTREAM_TIMEOUT',
        `The LLM server at ${baseUrl} did not answer within ${seconds}s`,
      );
    if (code)
      return new UpstreamError(
        502,
        'UPSTREAM_UNAVAILABLE',
        `The LLM server at ${baseUrl} could not be reached (${code})`,
      );
    return err;
  }

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<UpstreamResponse> {
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({
        origin,
        path: `${basePath}${path}`,
        method,
        ...(signal ? { signal } : {}),
        headers: {
          ...(body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' }),
          ...auth,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw translate(err, signal);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const message = await readErrorMessage(res.body);
    throw upstreamFailure(res.statusCode, message, (body as { model?: unknown } | undefined)?.model);
  }

  return {
    baseUrl,
    chatCompletions: (body, signal) => call('POST', '/chat/completions', body, signal),
    chatStream: (body, signal) =>
      streamRequest({
        dispatcher,
        origin,
        path: `${basePath}/chat/completions`,
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify(body),
        signal,
        failure: (status, text) => upstreamFailure(status, errorMessage(text), body.model),
        translate: (err) => translate(err, signal),
        errorLimit: ERROR_BODY_LIMIT,
      }),
    async listModels(signal) {
      const res = await call('GET', '/models', undefined, signal);
      let parsed: { data?: unknown };
      try {
        parsed = (await res.body.json()) as { data?: unknown };
      } catch (err) {
        throw translate(err, signal);
      }
      return Array.isArray(parsed.data)
        ? (parsed.data as { id?: unknown }[])
            .filter((m): m is { id: string } => typeof m?.id === 'string')
            .map((m) => m as { id: string; created?: number; owned_by?: string })
        : [];
    },
    close: () => dispatcher.close(),
  };
}
