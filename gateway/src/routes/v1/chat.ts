import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { EmbedderError, VectorIndexError } from '@rattgllm/core';
import {
  contextText,
  messageText,
  renderSystemPrompt,
  selectPassages,
  toSources,
  type OpenWebUISource,
} from '../../retrieval/context.js';
import { followUpQuery } from '../../retrieval/condense.js';
import { errorEvent, sourceChunk, statusChunk, type ChunkBase } from './chunks.js';
import {
  answerTokens,
  messageTokens,
  pinnedTokens,
  toolTokens,
  trimConversation,
  withoutTools,
} from '../../lib/prompt-budget.js';
import type { Pipeline } from '../../lib/pipeline-schema.js';
import { OpenAiError, toOpenAiError } from './errors.js';
import { dependencyReason } from '../../lib/public-error.js';

const Role = Type.Union(
  ['system', 'developer', 'user', 'assistant', 'tool', 'function'].map((r) => Type.Literal(r)),
);
const Message = Type.Object(
  {
    role: Role,
    content: Type.Optional(
      Type.Union([
        Type.String(),
        Type.Null(),
        Type.Array(Type.Object({ type: Type.String() }, { additionalProperties: true }), { maxItems: 500 }),
      ]),
    ),
  },
  { additionalProperties: true },
);
export const ChatBody = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 200 }),
    messages: Type.Array(Message, { minItems: 1, maxItems: 2000 }),
    stream: Type.Optional(Type.Boolean()),
  },
  // Everything else (temperature, tools, stream_options, …) goes to the upstream untouched.
  { additionalProperties: true },
);
type ChatBody = Static<typeof ChatBody>;

/**
 * Explicit limits of a chat request: its total JSON size (a 400 `request_too_large` above it) and
 * its nesting depth (MAX_JSON_DEPTH, a 400 `nesting_too_deep`, checked for every body).
 */
export const MAX_CHAT_BODY_BYTES = 16 * 1024 * 1024;

export const TASK_HEADER = 'x-openwebui-task';

/** Open WebUI's background jobs (titles, tags, follow-ups, query generation): no retrieval. */
function isTaskRequest(headers: Record<string, unknown>, body: ChatBody): boolean {
  const raw = headers[TASK_HEADER];
  const task = (Array.isArray(raw) ? raw[0] : raw) as string | undefined;
  // An unrendered template means "no task" (a connection configured without Open WebUI's variables).
  if (task && task.trim() && task.trim() !== '{{TASK}}') return true;
  return (
    body.stream !== true &&
    body.messages.length === 1 &&
    body.messages[0]!.role === 'user' &&
    messageText(body.messages[0]!.content).trimStart().startsWith('### Task:')
  );
}

/**
 * One abort controller per request: the client closing the connection before the answer is
 * complete aborts the retrieval and the upstream call. `dispose` removes the listener (and is
 * counted, so tests can prove nothing is left behind).
 */
function abortOnClientClose(reply: FastifyReply, stats: { listeners: number }) {
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

import type { ChatStats } from '../../plugins/app/rag.js';
import { NOBODY } from '../../plugins/app/openwebui.js';

const routes: FastifyPluginAsyncTypebox<{ stats: ChatStats }> = async (fastify, { stats }) => {
  const config = fastify.config;

  fastify.post(
    '/chat/completions',
    {
      onRequest: fastify.authenticate,
      bodyLimit: MAX_CHAT_BODY_BYTES,
      schema: {
        tags: ['openai'],
        summary: 'OpenAI-compatible chat, answered from the documents the caller may read',
        security: [{ bearer: [] }],
        body: ChatBody,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const pipeline: Pipeline | undefined = fastify.pipelines.get(body.model);
      if (!pipeline && !config.EXPOSE_OLLAMA_MODELS) {
        const known = fastify.pipelines.list().map((p) => p.id);
        throw new OpenAiError(
          404,
          'model_not_found',
          `The model "${body.model}" does not exist; available: ${known.join(', ') || '(none)'}`,
          'model',
        );
      }

      const client = abortOnClientClose(reply, stats);
      let handedOver = false;
      try {
        const base: ChunkBase = {
          id: `chatcmpl-rattg-${randomBytes(9).toString('base64url')}`,
          created: Math.floor(Date.now() / 1000),
          model: body.model,
        };
        let sources: OpenWebUISource[] = [];
        const warnings: string[] = [];
        let messages = body.messages as Record<string, unknown>[];
        // A pipeline's prompt must fit its chat model: tools only when the pipeline opts in, the
        // answer's room kept free, and what is left for our system prompt and the conversation.
        let forwarded: Record<string, unknown> = body;
        let promptRoom = Infinity;
        if (pipeline) {
          if (!pipeline.forwardTools) forwarded = withoutTools(body);
          const contextLength = await fastify.rag.models.contextLength(pipeline.chatModel);
          promptRoom = contextLength - answerTokens(body, contextLength) - toolTokens(forwarded);
        }

        if (pipeline && !isTaskRequest(request.headers, body)) {
          const { query } = await followUpQuery(fastify, request, pipeline, body.messages, client.signal);
          let context = contextText([]);
          if (query) {
            const identity = await fastify.retrievalIdentity(request);
            try {
              const { passages, timings } = await fastify.rag.retrieve({
                identity,
                query,
                limit: pipeline.retrieval.topK,
                minScore: pipeline.retrieval.minScore,
                ...(pipeline.retrieval.tags.length ? { tags: pipeline.retrieval.tags } : {}),
                signal: client.signal,
              });
              // Lets a client (and the benchmark) tell retrieval time from proxy overhead.
              reply.header(
                'server-timing',
                `embed;dur=${timings.embedMs.toFixed(2)}, search;dur=${timings.searchMs.toFixed(2)}, acl;dur=${timings.checkMs.toFixed(2)}`,
              );
              // The passages get what the template, the client's system prompts and the question
              // leave; older turns make room for them, not the other way round.
              const template = messageTokens({ content: renderSystemPrompt(pipeline.systemPrompt, '') });
              const passageRoom = promptRoom - template - pinnedTokens(messages);
              const chosen = selectPassages(
                passages,
                Math.max(0, Math.min(pipeline.retrieval.maxContextTokens, passageRoom)),
              );
              context = contextText(chosen);
              // Links that open in the asker's browser: the API's public address, and a token
              // that opens just that document for just this person (access re-checked on click).
              const reader = identity.principal.id === NOBODY ? null : identity.principal.id;
              sources = toSources(chosen, {
                baseUrl: config.PUBLIC_API_URL,
                token: reader ? (documentId) => fastify.signDocumentLink(reader, documentId) : undefined,
              });
              request.log.info(
                { pipeline: pipeline.id, identity: identity.label, passages: chosen.length, ...timings },
                'chat context retrieved',
              );
            } catch (err) {
              if (!(err instanceof EmbedderError || err instanceof VectorIndexError) || client.signal.aborted)
                throw err;
              if (config.RAG_ON_RETRIEVAL_ERROR === 'fail')
                throw new OpenAiError(
                  503,
                  'retrieval_unavailable',
                  `Document search is unavailable: ${dependencyReason(err)}`,
                );
              request.log.warn(
                { err, pipeline: pipeline.id },
                'document search failed; answering without context',
              );
              warnings.push(
                'Document search is unavailable right now; this answer does not use your documents.',
              );
            }
          }
          // The client's own system prompt stays; ours goes first, with the passages as quoted material.
          const system = { role: 'system', content: renderSystemPrompt(pipeline.systemPrompt, context) };
          const trimmed = trimConversation(messages, promptRoom - messageTokens(system));
          if (trimmed.dropped > 0)
            request.log.info(
              { pipeline: pipeline.id, dropped: trimmed.dropped },
              'oldest turns left out to fit the model context',
            );
          messages = [system, ...trimmed.messages];
        } else if (pipeline) {
          messages = trimConversation(messages, promptRoom).messages;
        }

        const upstreamBody: Record<string, unknown> = {
          ...forwarded,
          model: pipeline ? pipeline.chatModel : body.model,
          messages,
        };
        const upstream = await fastify.rag.llm.chatCompletions(upstreamBody, client.signal);

        if (body.stream !== true) {
          let answer: Record<string, unknown>;
          try {
            answer = (await upstream.body.json()) as Record<string, unknown>;
          } catch (err) {
            if (client.signal.aborted) throw err;
            throw new OpenAiError(502, 'upstream_error', 'The LLM server sent an answer that is not JSON');
          }
          return reply.send({ ...answer, sources, ...(warnings.length ? { warnings } : {}) });
        }

        // Stream: our events first (before the first token), then the upstream's bytes as they come.
        const prefix =
          warnings.map((w) => statusChunk(base, w)).join('') +
          sources.map((s) => sourceChunk(base, s)).join('');
        const log = request.log;
        stats.activeStreams++;
        async function* forward(): AsyncGenerator<Buffer | string> {
          try {
            if (prefix) yield prefix;
            for await (const chunk of upstream.body) yield chunk as Buffer;
          } catch (err) {
            if (client.signal.aborted) {
              log.info('client went away; upstream stream aborted');
              return;
            }
            // Headers are gone; report the failure inside the stream, as OpenAI does.
            const { body: e } = toOpenAiError(err as Error);
            log.warn({ err }, 'upstream stream failed');
            yield errorEvent(e.error.message, e.error.type, e.error.code);
          }
        }
        const stream = Readable.from(forward(), { objectMode: false, highWaterMark: 16 * 1024 });
        // 'close' comes after the end and after a destroy (client gone), even if the generator
        // never started, so cleanup cannot be skipped.
        stream.once('close', () => {
          stats.activeStreams--;
          upstream.body.destroy();
          client.dispose();
        });
        handedOver = true;
        return reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache')
          .header('x-accel-buffering', 'no')
          .send(stream);
      } finally {
        if (!handedOver) client.dispose();
      }
    },
  );
};

export default routes;
