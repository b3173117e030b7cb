import { Type, type Static } from 'typebox';

/**
 * One RAG profile, published as a model in `/v1/models`. `pipelines/pipeline.schema.json` is this
 * schema as JSON (a test keeps them equal), so editors can validate the YAML/JSON files too.
 */
export const PipelineRetrieval = Type.Object(
  {
    topK: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 50, default: 6, description: 'Passages handed to the model' }),
    ),
    minScore: Type.Optional(
      Type.Number({
        minimum: -1,
        maximum: 1,
        default: 0,
        description: 'Floor on the cosine similarity of a passage to the question (0 keeps all)',
      }),
    ),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 50,
        default: [],
        description: 'Only documents with one of these tags (empty: all readable documents)',
      }),
    ),
    maxContextTokens: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 200_000,
        default: 3000,
        description: 'Budget for the numbered passages in the prompt',
      }),
    ),
    followUps: Type.Optional(
      Type.Union([Type.Literal('off'), Type.Literal('rules'), Type.Literal('llm')], {
        default: 'rules',
        description:
          'A last message that refers back ("and its dosage?"): "rules" searches it with the earlier user turns it leans on, "llm" asks the chat model for a standalone query first (the rules when it is late or fails), "off" searches the last message alone',
      }),
    ),
    followUpTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 30_000,
        default: 2000,
        description: 'Time budget of the "llm" follow-up rewrite (ms)',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const PipelineSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    id: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$',
      description: 'The model id clients send (e.g. "rattgllm")',
    }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 2000, default: '' })),
    chatModel: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Upstream chat model (default: env CHAT_MODEL)',
      }),
    ),
    retrieval: Type.Optional(PipelineRetrieval),
    forwardTools: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Pass the client's tools, tool_choice and functions on to the chat model (off: Open WebUI's built-in tools would crowd the passages out of a small context, and small models call them instead of answering)",
      }),
    ),
    systemPrompt: Type.String({
      minLength: 1,
      maxLength: 20_000,
      pattern: '\\{\\{context\\}\\}',
      description: 'System prompt; {{context}} is replaced by the numbered passages',
    }),
  },
  {
    $id: 'https://rattgllm.local/pipeline.schema.json',
    title: 'rattgllm pipeline',
    additionalProperties: false,
  },
);

export type PipelineFile = Static<typeof PipelineSchema>;

export interface Pipeline {
  id: string;
  name: string;
  description: string;
  chatModel: string;
  retrieval: {
    topK: number;
    minScore: number;
    tags: string[];
    maxContextTokens: number;
    followUps: 'off' | 'rules' | 'llm';
    followUpTimeoutMs: number;
  };
  forwardTools: boolean;
  systemPrompt: string;
  /** File it came from, and when it was (re)loaded (unix seconds: the model's `created`). */
  file: string;
  created: number;
}

/** The schema as plain JSON (what `pipelines/pipeline.schema.json` holds). */
export function pipelineJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...(JSON.parse(JSON.stringify(PipelineSchema)) as Record<string, unknown>),
  };
}
