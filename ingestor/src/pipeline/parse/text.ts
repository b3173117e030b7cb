/** Plain text: one section, paragraphs as written. */
import type { ParsedDocument } from '../types.js';
import { decodeText, normalizeNewlines, type ParserEnv } from './sink.js';

export function parseText(data: Uint8Array, env: ParserEnv): ParsedDocument {
  const text = normalizeNewlines(decodeText(data, 'Text file'));
  env.out.push({ text, headingPath: [] });
  return { sections: env.out.sections, parser: 'txt', warnings: env.warnings };
}
