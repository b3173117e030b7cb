import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { estimateTokens } from '../../retrieval/context.js';
import { installOpenAiErrors, OpenAiError } from './errors.js';
import chatRoutes from './chat.js';
import { Embeddings, ModelList, openAiErrorResponses } from '../../schemas/openai.js';

const EmbeddingsBody = Type.Object(
  {
    input: Type.Union([
      Type.String({ maxLength: 100_000 }),
      Type.Array(Type.String({ maxLength: 100_000 }), { minItems: 1, maxItems: 512 }),
    ]),
    model: Type.Optional(Type.String({ maxLength: 200 })),
    encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
    user: Type.Optional(Type.String()),
    dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const sameModel = (a: string, b: string) => a.replace(/:latest$/, '') === b.replace(/:latest$/, '');

/** The OpenAI-compatible API under /v1, with OpenAI's error bodies. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  installOpenAiErrors(fastify);
  const config = fastify.config;
  const security = [{ bearer: [] }];

  fastify.get(
    '/models',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['openai'],
        summary: 'The pipelines (and, with EXPOSE_OLLAMA_MODELS, the upstream models)',
        security,
        response: { 200: ModelList, ...openAiErrorResponses(401, 403, 503) },
      },
    },
    async (request) => {
      const data = fastify.pipelines.list().map((p) => ({
        id: p.id,
        object: 'model' as const,
        created: p.created,
        owned_by: 'rattgllm',
        name: p.name,
        description: p.description,
      }));
      if (config.EXPOSE_OLLAMA_MODELS) {
        try {
          const seen = new Set(data.map((d) => d.id));
          for (const m of await fastify.rag.llm.listModels(AbortSignal.timeout(5000))) {
            if (seen.has(m.id)) continue;
            data.push({
              id: m.id,
              object: 'model',
              created: typeof m.created === 'number' ? m.created : 0,
              owned_by: typeof m.owned_by === 'string' ? m.owned_by : 'upstream',
              name: m.id,
              description: 'Upstream model, without document retrieval',
            });
          }
        } catch (err) {
          request.log.warn({ err }, 'could not list the upstream models; listing pipelines only');
        }
      }
      return { object: 'list' as const, data };
    },
  );

  fastify.post(
    '/embeddings',
    {
      onRequest: fastify.authenticate,
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        tags: ['openai'],
        summary: 'Embeddings from the configured embedding model (document prefix applied)',
        security,
        body: EmbeddingsBody,
        response: { 200: Embeddings, ...openAiErrorResponses(400, 401, 403, 404, 502, 503, 504) },
      },
    },
    async (request) => {
      const body = request.body;
      const embedder = fastify.rag.embedder;
      if (body.model && !sameModel(body.model, embedder.model))
        throw new OpenAiError(
          404,
          'model_not_found',
          `The embedding model is "${embedder.model}"; "${body.model}" is not served here`,
          'model',
        );
      if (body.dimensions !== undefined && body.dimensions !== embedder.dimension)
        throw new OpenAiError(
          400,
          'invalid_dimensions',
          `This model returns ${embedder.dimension} dimensions`,
          'dimensions',
        );
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      const controller = new AbortController();
      const onClose = () => controller.abort(new Error('client closed the connection'));
      request.raw.socket?.once('close', onClose);
      try {
        const vectors = await embedder.embedDocuments(inputs, { signal: controller.signal });
        const tokens = inputs.reduce((n, t) => n + estimateTokens(t), 0);
        return {
          object: 'list' as const,
          model: embedder.model,
          data: vectors.map((v, index) => ({
            object: 'embedding' as const,
            index,
            embedding:
              body.encoding_format === 'base64'
                ? Buffer.from(new Float32Array(v).buffer).toString('base64')
                : v,
          })),
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        };
      } finally {
        request.raw.socket?.off('close', onClose);
      }
    },
  );

  await fastify.register(chatRoutes, { stats: fastify.chatStats });
};

export default routes;
