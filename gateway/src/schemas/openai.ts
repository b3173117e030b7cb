import { Type, type Static } from 'typebox';

/**
 * The /v1 API's shapes, as OpenAI's clients read them. Answers that come from the upstream LLM
 * server are described by the fields rattgllm relies on and adds; everything else the upstream
 * sends passes through untouched (`additionalProperties`), so a newer OpenAI field is never lost.
 */

/** OpenAI's error body: `{error: {message, type, param, code}}`. */
export const OpenAiErrorBody = Type.Object(
  {
    error: Type.Object({
      message: Type.String({ description: 'What was wrong, in words' }),
      type: Type.String({ description: 'invalid_request_error, authentication_error, permission_error, …' }),
      param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault' }),
      code: Type.Union([Type.String(), Type.Null()], { description: 'Stable machine-readable code' }),
    }),
  },
  { $id: 'OpenAiErrorBody' },
);
export type OpenAiErrorBody = Static<typeof OpenAiErrorBody>;

/** OpenAI's error `type` for an HTTP status. */
export function errorType(status: number): string {
  if (status === 400 || status === 404 || status === 413 || status === 415 || status === 422)
    return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return 'api_error';
}

export const openAiErrorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('OpenAiErrorBody')]));

export const ModelEntry = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
  name: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
});

export const ModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(ModelEntry) });

const Open = { additionalProperties: true } as const;

/** One cited document, in the shape Open WebUI renders as a source chip (retrieval/context.ts). */
export const Source = Type.Object(
  {
    source: Type.Object({ id: Type.String(), name: Type.String(), url: Type.Optional(Type.String()) }, Open),
    document: Type.Array(Type.String()),
    metadata: Type.Array(Type.Object({}, Open)),
    distances: Type.Array(Type.Number()),
  },
  Open,
);

/** A non-streamed chat answer: the upstream's `chat.completion` with rattgllm's citations. */
export const ChatCompletion = Type.Object(
  {
    id: Type.Optional(Type.String()),
    object: Type.Optional(Type.String({ description: 'chat.completion' })),
    created: Type.Optional(Type.Number()),
    model: Type.Optional(Type.String()),
    choices: Type.Optional(Type.Array(Type.Object({}, Open))),
    usage: Type.Optional(Type.Object({}, Open)),
    sources: Type.Array(Source, { description: 'The passages given to the model, as citations' }),
    warnings: Type.Optional(
      Type.Array(Type.String(), { description: 'e.g. the documents could not be searched for this answer' }),
    ),
  },
  Open,
);
export type ChatCompletion = Static<typeof ChatCompletion>;

/**
 * `stream: true`: Server-Sent Events, `data: {chat.completion.chunk}` lines ending with
 * `data: [DONE]`. Before the first token come chunks with no choices that carry Open WebUI
 * events (`event: {type: "status" | "source", data}`); generic OpenAI clients skip them. A failure
 * after the stream started arrives as `data: {error: {message, type, param, code}}`.
 */
export const ChatCompletionStream = Type.String({
  description:
    'Server-Sent Events: `data: {chat.completion.chunk}` lines, then `data: [DONE]`. Chunks without ' +
    'choices first carry Open WebUI events (`event.type` status or source); a failure mid-stream ' +
    'is a `data: {error}` line.',
});

export const Embeddings = Type.Object({
  object: Type.Literal('list'),
  model: Type.String(),
  data: Type.Array(
    Type.Object({
      object: Type.Literal('embedding'),
      index: Type.Integer(),
      embedding: Type.Union([Type.Array(Type.Number()), Type.String({ description: 'base64 float32' })]),
    }),
  ),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
});
