import { Type, type Static } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { messageText } from '../../retrieval/context.js';
import { buildChatContext, type ChatRequestBody } from '../../retrieval/chat-context.js';
import type { ChatStats } from '../../plugins/app/rag.js';
import { OpenAiError } from './errors.js';
import { abortOnClientClose, answerJson, forwardStream } from './forward.js';

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

/** POST /v1/chat/completions: build the context (retrieval/chat-context.ts), forward the answer (forward.ts). */
const routes: FastifyPluginAsyncTypebox<{ stats: ChatStats }> = async (fastify, { stats }) => {
  const config = fastify.config;
  const contextDeps = {
    retrieve: fastify.rag.retrieve,
    contextLength: (model: string) => fastify.rag.models.contextLength(model),
    signDocumentLink: fastify.signDocumentLink,
    publicApiUrl: config.PUBLIC_API_URL,
    onRetrievalError: config.RAG_ON_RETRIEVAL_ERROR,
    llm: fastify.rag.llm,
  };

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
      const pipeline = fastify.pipelines.get(body.model);
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
        const context = await buildChatContext(contextDeps, {
          body: body as ChatRequestBody,
          pipeline,
          task: isTaskRequest(request.headers, body),
          identity: () => fastify.retrievalIdentity(request),
          signal: client.signal,
          log: request.log,
        });
        const { timings: t } = context;
        // Lets a client (and the benchmark) tell retrieval time from proxy overhead.
        if (t)
          reply.header(
            'server-timing',
            `embed;dur=${t.embedMs.toFixed(2)}, search;dur=${t.searchMs.toFixed(2)}, acl;dur=${t.checkMs.toFixed(2)}`,
          );
        const upstream = await fastify.rag.llm.chatCompletions(context.upstreamBody, client.signal);
        if (body.stream !== true) return reply.send(await answerJson(upstream, context, client.signal));
        handedOver = true;
        return forwardStream(reply, upstream, context, {
          model: body.model,
          client,
          stats,
          log: request.log,
        });
      } finally {
        if (!handedOver) client.dispose();
      }
    },
  );
};

export default routes;
