import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { UpstreamResponse, UpstreamStream } from '../../lib/llm.js';
import type { ChatStats } from '../../plugins/app/rag.js';
import type { ChatContext } from '../../retrieval/chat-context.js';
import { errorEvent, sourceChunk, statusChunk, type ChunkBase } from './chunks.js';
import { OpenAiError, toOpenAiError } from './errors.js';
import type { ChatCompletion } from '../../schemas/openai.js';

export interface ClientConnection {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * One abort controller per request: the client closing the connection before the answer is
 * complete aborts the retrieval and the upstream call. `dispose` removes the listener (and is
 * counted, so tests can prove nothing is left behind).
 */
export function abortOnClientClose(reply: FastifyReply, stats: { listeners: number }): ClientConnection {
  const controller = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  };
  res.once('close', onClose);
  stats.listeners++;
  let disposed = false;
  return {
    signal: controller.signal,
    dispose() {
      if (disposed) return;
      disposed = true;
      res.off('close', onClose);
      stats.listeners--;
    },
  };
}

/** A non-streamed answer: the upstream's JSON with our citations (and warnings) added. */
export async function answerJson(
  upstream: UpstreamResponse,
  context: ChatContext,
  signal: AbortSignal,
): Promise<ChatCompletion> {
  let answer: Record<string, unknown>;
  try {
    answer = (await upstream.body.json()) as Record<string, unknown>;
  } catch (err) {
    if (signal.aborted) throw err;
    throw new OpenAiError(502, 'upstream_error', 'The LLM server sent an answer that is not JSON');
  }
  const { sources, warnings } = context;
  return { ...answer, sources, ...(warnings.length ? { warnings } : {}) };
}

export interface ForwardOptions {
  model: string;
  client: ClientConnection;
  stats: ChatStats;
  log: FastifyBaseLogger;
}

/**
 * A streamed answer: our events first (before the first token), then the upstream's bytes as
 * they come, with backpressure, written to the response directly (lib/llm-stream.ts): the
 * reply is hijacked, so Fastify's headers (Server-Timing) are written here. Owns the client
 * connection from here: it is disposed when the response closes.
 */
export function forwardStream(
  reply: FastifyReply,
  upstream: UpstreamStream,
  context: ChatContext,
  { model, client, stats, log }: ForwardOptions,
): FastifyReply {
  const base: ChunkBase = {
    // randomUUID draws from a buffered pool; randomBytes(9) was a 37 µs entropy call per answer.
    id: `chatcmpl-rattg-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const prefix =
    context.warnings.map((w) => statusChunk(base, w)).join('') +
    context.sources.map((s) => sourceChunk(base, s)).join('');
  stats.activeStreams++;
  const res = reply.raw;
  // 'close' comes after the end and after a destroy (client gone), even if nothing was
  // forwarded yet, so cleanup cannot be skipped.
  res.once('close', () => {
    stats.activeStreams--;
    upstream.destroy();
    client.dispose();
  });
  reply.hijack();
  res.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  upstream.forward(prefix, res, (err) => {
    if (client.signal.aborted) {
      log.info('client went away; upstream stream aborted');
      return undefined;
    }
    // Headers are gone; report the failure inside the stream, as OpenAI does.
    const { body: e } = toOpenAiError(err as Error);
    log.warn({ err }, 'upstream stream failed');
    return errorEvent(e.error.message, e.error.type, e.error.code);
  });
  return reply;
}
