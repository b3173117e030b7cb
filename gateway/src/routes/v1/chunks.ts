import type { OpenWebUISource } from '../../retrieval/context.js';

/** One server-sent event carrying JSON, as OpenAI-compatible streams frame them. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export interface ChunkBase {
  id: string;
  created: number;
  model: string;
}

/**
 * A valid `chat.completion.chunk` with no choices (generic OpenAI clients skip it, like a usage
 * chunk) that carries an Open WebUI event: Open WebUI emits `event` to the chat as it is.
 */
export function eventChunk(base: ChunkBase, event: { type: string; data: unknown }): string {
  return sseData({ ...base, object: 'chat.completion.chunk', choices: [], event });
}

export function sourceChunk(base: ChunkBase, source: OpenWebUISource): string {
  return eventChunk(base, { type: 'source', data: source });
}

export function statusChunk(base: ChunkBase, description: string, done = true): string {
  return eventChunk(base, { type: 'status', data: { description, done, hidden: false } });
}

/** An error after the stream started, in the form OpenAI streams report one (`data: {error}`). */
export function errorEvent(message: string, type: string, code: string | null): string {
  return sseData({ error: { message, type, param: null, code } });
}
