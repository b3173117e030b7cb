import { Type, type Static } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { messageText } from '../../retrieval/context.js';
import { buildChatContext, type ChatRequestBody } from '../../retrieval/chat-context.js';
import type { ChatStats } from '../../plugins/app/rag.js';
import { StageTimer } from '../../lib/stage-timing.js';
import { OpenAiError } from './errors.js';
import { ChatCompletion, ChatCompletionStream, openAiErrorResponses } from '../../schemas/openai.js';
import { abortOnClientClose, answerJson, forwardStream } from './forward.js';

const Role = Type.Union([
  Type.Literal('system'),
  Type.Literal('developer'),
  Type.Literal('user'),
  Type.Literal('assistant'),
  Type.Literal('tool'),
  Type.Literal('function'),
]);
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
        response: {
          200: {
            description: 'The answer: JSON, or with `stream: true` Server-Sent Events',
            content: {
              'application/json': { schema: ChatCompletion },
              'text/event-stream': { schema: ChatCompletionStream },
            },
          },
          ...openAiErrorResponses(400, 401, 403, 404, 502, 503, 504),
        },
      },
    },
    async (request, reply) => {
      // Where the gateway's own time goes, in Server-Timing: auth, then routing + body parsing.
      const timer = new StageTimer();
      timer.add('auth', request.authMs);
      timer.add('parse', reply.elapsedTime - request.authMs);
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
        const contextStarted = performance.now();
        const context = await buildChatContext(contextDeps, {
          body: body as ChatRequestBody,
          pipeline,
          task: isTaskRequest(request.headers, body),
          identity: () => fastify.retrievalIdentity(request),
          signal: client.signal,
          log: request.log,
        });
        const { timings: t } = context;
        // Lets a client (and the benchmark) tell retrieval time from proxy overhead: `context` is
        // the pipeline, identity and prompt work around embed + search + acl + window (the wait
        // for the passage windows' neighbours from Qdrant).
        timer.add(
          'context',
          performance.now() - contextStarted - (t ? t.embedMs + t.searchMs + t.checkMs + t.windowFetchMs : 0),
        );
        if (t) {
          timer.add('embed', t.embedMs);
          timer.add('search', t.searchMs);
          timer.add('acl', t.checkMs);
          timer.add('window', t.windowFetchMs);
        }
        const llm = fastify.rag.llm;
        if (body.stream !== true) {
          const upstream = await llm.chatCompletions(context.upstreamBody, client.signal);
          timer.lap('upstream');
          reply.header('server-timing', timer.header());
          return reply.send(await answerJson(upstream, context, client.signal));
        }
        const upstream = await llm.chatStream(context.upstreamBody, client.signal);
        timer.lap('upstream');
        reply.header('server-timing', timer.header());
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
