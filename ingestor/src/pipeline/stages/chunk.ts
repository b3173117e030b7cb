import type { IngestorDeps } from '../../deps.js';
import { chunkDocument } from '../chunk.js';
import { chunkTarget } from '../signature.js';
import type { Chunk, ParsedDocument, Stage } from '../types.js';

/** Stage 2, chunk: sections to passages of the fitted size (pipeline/chunk.ts). */
export function chunkStage(
  deps: Pick<IngestorDeps, 'config' | 'chunkTokens'>,
): Stage<ParsedDocument, Chunk[]> {
  const options = { targetTokens: chunkTarget(deps), overlap: deps.config.CHUNK_OVERLAP };
  return (parsed, ctx) => chunkDocument(parsed, options, ctx);
}
