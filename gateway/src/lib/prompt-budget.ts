/**
 * Fitting a pipeline's prompt into the chat model's context: the room for the answer is kept
 * free, the system prompt and the passages stay whole, and the conversation loses its oldest
 * turns first. Pure functions: the chat route and the tests share them.
 */
import { estimateTokens, messageText } from '../retrieval/context.js';

type Message = Record<string, unknown>;

/** The request fields that hand tools to the model (OpenAI's current and legacy names). */
export const TOOL_FIELDS = ['tools', 'tool_choice', 'functions', 'function_call', 'parallel_tool_calls'];

/** Room kept for the answer when the client does not ask for a length. */
export const DEFAULT_ANSWER_TOKENS = 1024;

/** Chat templates wrap each message in role markers; a few tokens each. */
const MESSAGE_OVERHEAD = 4;

export function withoutTools<T extends Record<string, unknown>>(body: T): T {
  const out: Record<string, unknown> = { ...body };
  for (const field of TOOL_FIELDS) delete out[field];
  return out as T;
}

/** What the tool definitions of a request cost (0 when it has none). */
export function toolTokens(body: Record<string, unknown>): number {
  const present = TOOL_FIELDS.filter((f) => body[f] !== undefined).map((f) => body[f]);
  return present.length ? estimateTokens(JSON.stringify(present)) : 0;
}

export function messageTokens(m: Message): number {
  let n = estimateTokens(messageText(m.content)) + MESSAGE_OVERHEAD;
  if (m.tool_calls !== undefined) n += estimateTokens(JSON.stringify(m.tool_calls));
  return n;
}

export function conversationTokens(messages: readonly Message[]): number {
  return messages.reduce((sum, m) => sum + messageTokens(m), 0);
}

/** The answer's room: what the client asked for (or the default), at most a quarter of the context. */
export function answerTokens(body: Record<string, unknown>, contextLength: number): number {
  const asked = body.max_completion_tokens ?? body.max_tokens;
  const want = typeof asked === 'number' && asked > 0 ? asked : DEFAULT_ANSWER_TOKENS;
  return Math.min(want, Math.floor(contextLength / 4));
}

const isSystem = (m: Message) => m.role === 'system' || m.role === 'developer';

/** The messages that are never trimmed: the client's system prompts and the last message. */
export function pinnedTokens(messages: readonly Message[]): number {
  return messages.reduce(
    (sum, m, i) => sum + (i === messages.length - 1 || isSystem(m) ? messageTokens(m) : 0),
    0,
  );
}

/**
 * Keeps the system messages and the last message, and as many of the newest other turns as fit
 * in `budget` tokens: the first turn that does not fit and everything older goes, so the model
 * never sees a conversation with holes in it. A tool result left at the start without the call
 * that asked for it goes too (servers refuse such a conversation).
 */
export function trimConversation(
  messages: readonly Message[],
  budget: number,
): { messages: Message[]; dropped: number } {
  const last = messages.length - 1;
  const keep = new Set<number>();
  let used = 0;
  messages.forEach((m, i) => {
    if (i === last || isSystem(m)) {
      keep.add(i);
      used += messageTokens(m);
    }
  });
  let oldestKept = last;
  for (let i = last - 1; i >= 0; i--) {
    if (keep.has(i)) continue;
    const cost = messageTokens(messages[i]!);
    if (used + cost > budget) break;
    used += cost;
    keep.add(i);
    oldestKept = i;
  }
  for (let i = oldestKept; i < last && messages[i]!.role === 'tool'; i++) keep.delete(i);
  const kept = messages.filter((_m, i) => keep.has(i));
  return { messages: kept, dropped: messages.length - kept.length };
}
