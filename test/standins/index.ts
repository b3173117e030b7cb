/**
 * Test helpers: a Qdrant / Ollama for a suite. By default an in-process stand-in; when
 * QDRANT_URL / OLLAMA_URL are set (`npm run test:live`), the real service at that address, and
 * `standin` is null so fault-injection tests can skip themselves.
 */
import { randomBytes } from 'node:crypto';
import { OllamaStandin, type OllamaStandinOptions } from './ollama.js';
import { QdrantStandin } from './qdrant.js';
import { DoclingStandin } from './docling.js';

export { OllamaStandin, fullModelName, type ChatScript, type OllamaStandinOptions } from './ollama.js';
export { QdrantStandin } from './qdrant.js';
export { DoclingStandin } from './docling.js';
export { lexicalEmbedding } from './lexical.js';

export interface Service<S> {
  url: string;
  /** The stand-in, or null against a real service. */
  standin: S | null;
  /** Extra environment for parseConfig (e.g. the API key of a live Qdrant). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startQdrant(): Promise<Service<QdrantStandin>> {
  const live = process.env.QDRANT_URL;
  if (live) {
    const env: Record<string, string> = { QDRANT_URL: live };
    if (process.env.QDRANT_API_KEY) env.QDRANT_API_KEY = process.env.QDRANT_API_KEY;
    return { url: live, standin: null, env, close: async () => {} };
  }
  const standin = await new QdrantStandin().start();
  return { url: standin.url, standin, env: { QDRANT_URL: standin.url }, close: () => standin.close() };
}

/** The embedding settings a live run is configured with (the stand-in serves nomic-embed-text, 768). */
const EMBED_SETTINGS = ['EMBED_MODEL', 'EMBED_DIM', 'EMBED_DOCUMENT_PREFIX', 'EMBED_QUERY_PREFIX'] as const;

export async function startOllama(options?: OllamaStandinOptions): Promise<Service<OllamaStandin>> {
  const live = process.env.OLLAMA_URL;
  if (live) {
    // Against a real Ollama the model, its dimension and prefixes come from the configuration.
    const env: Record<string, string> = { OLLAMA_URL: live };
    for (const k of EMBED_SETTINGS) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    return { url: live, standin: null, env, close: async () => {} };
  }
  const standin = await new OllamaStandin(options).start();
  return { url: standin.url, standin, env: { OLLAMA_URL: standin.url }, close: () => standin.close() };
}

/** A collection name no other test (or earlier run against a live Qdrant) uses. */
export function uniqueCollectionName(prefix = 'test'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export async function startDocling(): Promise<Service<DoclingStandin>> {
  const live = process.env.DOCLING_URL;
  if (live) return { url: live, standin: null, env: { DOCLING_URL: live }, close: async () => {} };
  const standin = await new DoclingStandin().start();
  return { url: standin.url, standin, env: { DOCLING_URL: standin.url }, close: () => standin.close() };
}

/**
 * A real service is configured: tests that inject faults into the stand-in or read what it
 * recorded skip themselves (`it.skipIf(LIVE_QDRANT)`), so they are counted as skipped, not passed.
 */
export const LIVE_QDRANT = !!process.env.QDRANT_URL;
export const LIVE_OLLAMA = !!process.env.OLLAMA_URL;
