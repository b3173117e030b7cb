/**
 * Follow-up questions: "what about its dosage?" names nothing a search can find; the thing it
 * refers to is in an earlier turn. The retrieval query is then built from the conversation:
 *
 * - `rules` (default): when the last user message refers back (a pronoun, a leading "and …" /
 *   "what about …", or no word of its own), the earlier user turns it leans on are added
 *   to it — newest first, back to the turn that stands on its own. Cheap and predictable; the
 *   dense vector and BM25 both see the subject again.
 * - `llm`: the same check, then the chat upstream rewrites the question into a standalone query
 *   within a time budget; a slow, failed or empty answer falls back to the rules.
 * - `off`: the last user message alone.
 *
 * A message that does not refer back is always searched as written.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LlmClient } from '../lib/llm.js';
import type { Pipeline } from '../lib/pipeline-schema.js';
import { lastUserText, messageText } from './context.js';

export type CondenseMode = 'off' | 'rules' | 'llm';

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

/** Words that point back to something named before (English; lower case). */
const REFERRING = new Set(
  (
    'it its itself they them their theirs themselves this these those he him his she her hers ' +
    'former latter aforementioned same such one ones'
  ).split(' '),
);
/** Openings that continue the previous question ("and in children?", "what about the dose?"). */
const CONTINUING = /^(and|also|but|so|then|or|plus|what about|how about|and what|same for|ok(ay)?,?)\b/i;
/** Words that carry no subject (question words, auxiliaries, fillers). */
const FUNCTION_WORDS = new Set(
  (
    'a an the and or but so of to in on at by for with from about as is are was were be been ' +
    'being do does did have has had can could would should will shall may might must what which ' +
    'who whom whose when where why how that there here than then please tell me us more explain ' +
    'describe give show also again ok okay yes no not any some much many very just'
  ).split(' '),
);
/** At most this many earlier user turns are added, and at most this many characters of them. */
const MAX_EARLIER_TURNS = 3;
const MAX_EARLIER_CHARS = 600;

const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];

/**
 * Whether a message leans on earlier turns: it has a referring word, opens like a continuation,
 * or has no word of its own ("why?", "how so?").
 */
export function refersBack(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed) return false;
  if (CONTINUING.test(trimmed)) return true;
  const ws = words(trimmed);
  if (ws.some((w) => REFERRING.has(w))) return true;
  return ws.every((w) => FUNCTION_WORDS.has(w));
}

/** The user turns' texts, oldest first. */
function userTurns(messages: readonly ChatMessage[]): string[] {
  return messages
    .filter((m) => m?.role === 'user')
    .map((m) => messageText(m.content).trim())
    .filter(Boolean);
}

/**
 * The rule-based retrieval query: the last user message, followed by the earlier user turns it
 * leans on (newest first; a turn that stands on its own ends the walk). The question comes first
 * so a long conversation can never push it out of the embedder's window.
 */
export function condenseByRules(messages: readonly ChatMessage[]): string {
  const turns = userTurns(messages);
  const last = lastUserText(messages);
  if (turns.length < 2 || !refersBack(last)) return last;
  const earlier: string[] = [];
  let room = MAX_EARLIER_CHARS;
  for (let i = turns.length - 2; i >= 0 && earlier.length < MAX_EARLIER_TURNS && room > 0; i--) {
    const turn = turns[i]!.slice(0, room);
    earlier.push(turn);
    room -= turn.length;
    if (!refersBack(turns[i]!)) break;
  }
  return [last, ...earlier].join('\n');
}

/** Asks the chat model for a standalone query; resolves to its text (may be empty). */
export type RewriteFn = (
  body: { messages: { role: string; content: string }[]; max_tokens: number; temperature: number },
  signal: AbortSignal,
) => Promise<string>;

export const REWRITE_PROMPT =
  'Rewrite the last user question of this conversation as one standalone search query that ' +
  'names everything it refers to. Keep its language. Answer with the query only, no explanation.';

export interface RetrievalQueryOptions {
  mode: CondenseMode;
  /** The chat upstream, for `llm`. */
  rewrite?: RewriteFn;
  /** Longest wait for the rewrite (ms) before the rules' query is used. */
  timeoutMs?: number;
  /** The request's own abort (client gone). */
  signal?: AbortSignal;
  /** Called when the rewrite failed or ran out of time (for a log line). */
  onFallback?: (reason: string) => void;
}

export interface RetrievalQuery {
  query: string;
  /** How it was built: `last` (the message as written), `rules`, `llm`. */
  via: 'last' | 'rules' | 'llm';
}

/** The query retrieval runs for this conversation (see the file comment). */
export async function retrievalQuery(
  messages: readonly ChatMessage[],
  options: RetrievalQueryOptions,
): Promise<RetrievalQuery> {
  const turns = userTurns(messages);
  const last = lastUserText(messages);
  if (options.mode === 'off' || turns.length < 2 || !refersBack(last)) return { query: last, via: 'last' };
  const rules = { query: condenseByRules(messages), via: 'rules' as const };
  if (options.mode !== 'llm' || !options.rewrite) return rules;

  const budget = AbortSignal.timeout(options.timeoutMs ?? 2000);
  const signal = options.signal ? AbortSignal.any([options.signal, budget]) : budget;
  // The conversation as the model sees it: user turns and the assistant's answers, short.
  const transcript = messages
    .filter((m) => m?.role === 'user' || m?.role === 'assistant')
    .slice(-8)
    .map((m) => `${String(m.role)}: ${messageText(m.content).trim().slice(0, 1000)}`)
    .join('\n');
  try {
    const text = await options.rewrite(
      {
        messages: [
          { role: 'system', content: REWRITE_PROMPT },
          { role: 'user', content: transcript },
        ],
        max_tokens: 96,
        temperature: 0,
      },
      signal,
    );
    // One line, no quotes or "Query:" label; an empty or runaway answer is not a query.
    const query = (text.trim().split('\n')[0] ?? '')
      .replace(/^(standalone )?(search )?query:\s*/i, '')
      .replace(/^["'“]+|["'”]+$/g, '')
      .trim();
    if (!query || query.length > 1000) {
      options.onFallback?.('the chat model gave no usable query');
      return rules;
    }
    return { query, via: 'llm' };
  } catch (err) {
    options.signal?.throwIfAborted();
    options.onFallback?.(budget.aborted ? 'the rewrite took longer than its time budget' : String(err));
    return rules;
  }
}

/** The rewrite through the chat upstream (OpenAI /chat/completions, not streamed). */
export function llmRewrite(llm: LlmClient, model: string): RewriteFn {
  return async (body, signal) => {
    const res = await llm.chatCompletions({ ...body, model, stream: false }, signal);
    const answer = (await res.body.json()) as { choices?: { message?: { content?: unknown } }[] };
    const content = answer.choices?.[0]?.message?.content;
    return typeof content === 'string' ? content : '';
  };
}

/** The chat path's hook: the retrieval query of this conversation under the pipeline's setting. */
export async function followUpQuery(
  messages: readonly ChatMessage[],
  pipeline: Pipeline,
  deps: { llm?: LlmClient | undefined; signal: AbortSignal; log: FastifyBaseLogger },
): Promise<RetrievalQuery> {
  const built = await retrievalQuery(messages, {
    mode: pipeline.retrieval.followUps,
    ...(deps.llm ? { rewrite: llmRewrite(deps.llm, pipeline.chatModel) } : {}),
    timeoutMs: pipeline.retrieval.followUpTimeoutMs,
    signal: deps.signal,
    onFallback: (reason) =>
      deps.log.warn(
        { pipeline: pipeline.id, reason },
        'follow-up rewrite failed; using the rule-based query',
      ),
  });
  if (built.via !== 'last')
    deps.log.debug({ pipeline: pipeline.id, via: built.via }, 'follow-up query built');
  return built;
}
