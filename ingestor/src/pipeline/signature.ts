import type { IngestorDeps } from '../deps.js';
import { CHUNKER_VERSION } from './chunk.js';
import { DEFAULT_CHUNK_TOKENS } from './tokens.js';

/** What an index is built from; a change makes every document's index stale. */
export function indexSignature(deps: Pick<IngestorDeps, 'config' | 'chunkTokens'>): string {
  const { config } = deps;
  return [
    CHUNKER_VERSION,
    config.EMBED_MODEL,
    config.EMBED_DIM,
    config.EMBED_DOCUMENT_PREFIX,
    chunkTarget(deps),
    config.CHUNK_OVERLAP,
  ].join('|');
}

/** Target tokens per chunk: fitted to the model at start (main.ts), else CHUNK_TOKENS or 400. */
export function chunkTarget(deps: Pick<IngestorDeps, 'config' | 'chunkTokens'>): number {
  return deps.chunkTokens ?? deps.config.CHUNK_TOKENS ?? DEFAULT_CHUNK_TOKENS;
}
