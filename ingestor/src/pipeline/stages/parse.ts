import type { IngestorDeps } from '../../deps.js';
import { parseDocument, type ParseInput } from '../parse/index.js';
import type { ParsedDocument, Stage } from '../types.js';

/** Stage 1, parse: bytes to sections with structure (pipeline/parse/), within MAX_UPLOAD_MB. */
export function parseStage(
  deps: Pick<IngestorDeps, 'config' | 'docling'>,
): Stage<ParseInput, ParsedDocument> {
  const limits = { maxBytes: deps.config.MAX_UPLOAD_MB * 1024 * 1024 };
  return (input, ctx) => parseDocument(input, { ...ctx, limits, docling: deps.docling });
}
