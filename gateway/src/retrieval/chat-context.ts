import type { FastifyBaseLogger } from 'fastify';
import { EmbedderError, ServiceUnavailableError, VectorIndexError } from '@rattgllm/core';
import {
  contextText,
  renderSystemPrompt,
  selectPassages,
  toSources,
  type OpenWebUISource,
} from './context.js';
import {
  answerTokens,
  messageTokens,
  pinnedTokens,
  toolTokens,
  trimConversation,
  withoutTools,
} from '../lib/prompt-budget.js';
import type { Pipeline } from '../lib/pipeline-schema.js';
import type { LlmClient } from '../lib/llm.js';
import { followUpQuery } from './condense.js';
import { reusedLinks } from './link-tokens.js';
import { dependencyReason } from '../lib/public-error.js';
import { NOBODY, type RetrievalIdentity, type Retrieve, type RetrieveResult } from './retrieve.js';

export interface ChatContextDeps {
  retrieve: Retrieve;
  /** The chat model's real context length (tokens). */
  contextLength(model: string): Promise<number>;
  /** A token that opens one document for one reader (access re-checked on click). */
  signDocumentLink(userId: string, documentId: string): string;
  /** Where browsers reach the API (citation links); relative links without it. */
  publicApiUrl: string | undefined;
  /** RAG_ON_RETRIEVAL_ERROR: answer without the documents, or fail with a 503. */
  onRetrievalError: 'continue' | 'fail';
  /** The chat upstream, for a pipeline's `followUps: llm` rewrite (condense.ts). */
  llm?: LlmClient;
}

export interface ChatRequestBody extends Record<string, unknown> {
  model: string;
  messages: Record<string, unknown>[];
}

export interface ChatContextInput {
  body: ChatRequestBody;
  /** The pipeline the model names; none: the body goes to the upstream model as it is. */
  pipeline: Pipeline | undefined;
  /** An Open WebUI background task (title, tags, …): fitted to the model, but no retrieval. */
  task: boolean;
  identity(): Promise<RetrievalIdentity>;
  signal: AbortSignal;
  log: FastifyBaseLogger;
}

export interface ChatContext {
  /** The client's body with the pipeline's chat model, our system prompt and the fitted conversation. */
  upstreamBody: Record<string, unknown>;
  /** The passages given to the model, as Open WebUI citations. */
  sources: OpenWebUISource[];
  /** Shown to the person (e.g. the documents could not be searched). */
  warnings: string[];
  /** Set when retrieval ran. */
  timings?: RetrieveResult['timings'];
}

/**
 * Builds what a chat request sends upstream: a pipeline's prompt must fit its chat model (tools
 * only when the pipeline opts in, the answer's room kept free); our system prompt carries the
 * passages the asker may read, and the oldest turns make room for them.
 */
export async function buildChatContext(deps: ChatContextDeps, input: ChatContextInput): Promise<ChatContext> {
  const { body, pipeline, log } = input;
  const sources: OpenWebUISource[] = [];
  const warnings: string[] = [];
  if (!pipeline) return { upstreamBody: { ...body }, sources, warnings };

  const forwarded: Record<string, unknown> = pipeline.forwardTools ? body : withoutTools(body);
  const contextLength = await deps.contextLength(pipeline.chatModel);
  const promptRoom = contextLength - answerTokens(body, contextLength) - toolTokens(forwarded);
  const upstream = (messages: Record<string, unknown>[]) => ({
    ...forwarded,
    model: pipeline.chatModel,
    messages,
  });
  if (input.task)
    return {
      upstreamBody: upstream(trimConversation(body.messages, promptRoom).messages),
      sources,
      warnings,
    };

  const messages = body.messages;
  // A follow-up ("and its dosage?") is searched with what it refers back to (condense.ts).
  const { query } = await followUpQuery(messages, pipeline, { llm: deps.llm, signal: input.signal, log });
  let context = contextText([]);
  let timings: RetrieveResult['timings'] | undefined;
  if (query) {
    const identity = await input.identity();
    try {
      const found = await deps.retrieve({
        identity,
        query,
        limit: pipeline.retrieval.topK,
        minScore: pipeline.retrieval.minScore,
        ...(pipeline.retrieval.tags.length ? { tags: pipeline.retrieval.tags } : {}),
        signal: input.signal,
      });
      timings = found.timings;
      // The passages get what the template, the client's system prompts and the question
      // leave; older turns make room for them, not the other way round.
      const template = messageTokens({ content: renderSystemPrompt(pipeline.systemPrompt, '') });
      const passageRoom = promptRoom - template - pinnedTokens(messages);
      const chosen = selectPassages(
        found.passages,
        Math.max(0, Math.min(pipeline.retrieval.maxContextTokens, passageRoom)),
      );
      context = contextText(chosen);
      // Links that open in the asker's browser: the API's public address, and a token
      // that opens just that document for just this person (access re-checked on click).
      const reader = identity.principal.id === NOBODY ? null : identity.principal.id;
      sources.push(
        ...toSources(chosen, {
          baseUrl: deps.publicApiUrl,
          token: reader ? (documentId) => reusedLinks(deps.signDocumentLink)(reader, documentId) : undefined,
        }),
      );
      // Written once the upstream request is on its way (microtasks run before immediates):
      // serialising and writing a log line is not worth a delay to the first token (issue #12).
      const fields = {
        pipeline: pipeline.id,
        identity: identity.label,
        passages: chosen.length,
        ...found.timings,
      };
      setImmediate(() => log.info(fields, 'chat context retrieved'));
    } catch (err) {
      if (!(err instanceof EmbedderError || err instanceof VectorIndexError) || input.signal.aborted)
        throw err;
      if (deps.onRetrievalError === 'fail')
        throw new ServiceUnavailableError(
          `Document search is unavailable: ${dependencyReason(err)}`,
          'RETRIEVAL_UNAVAILABLE',
        );
      log.warn({ err, pipeline: pipeline.id }, 'document search failed; answering without context');
      warnings.push('Document search is unavailable right now; this answer does not use your documents.');
    }
  }
  // The client's own system prompt stays; ours goes first, with the passages as quoted material.
  const system = { role: 'system', content: renderSystemPrompt(pipeline.systemPrompt, context) };
  const trimmed = trimConversation(messages, promptRoom - messageTokens(system));
  if (trimmed.dropped > 0)
    log.info(
      { pipeline: pipeline.id, dropped: trimmed.dropped },
      'oldest turns left out to fit the model context',
    );
  return {
    upstreamBody: upstream([system, ...trimmed.messages]),
    sources,
    warnings,
    ...(timings ? { timings } : {}),
  };
}
