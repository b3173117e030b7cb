/**
 * Markdown → sections, headings from marked's block lexer (ATX and setext headings, and it knows
 * that a "# comment" inside a fenced code block is not one). Inline markup is left as written:
 * only block tokens are needed, which keeps this fast.
 */
import { Lexer, type Token } from 'marked';
import type { ParsedDocument } from '../types.js';
import { TopLevelTokenizer } from './markdown-tokenizer.js';
import { decodeText, normalizeNewlines, type ParserEnv } from './sink.js';

export function parseMarkdown(data: Uint8Array, env: ParserEnv): ParsedDocument {
  const source = normalizeNewlines(decodeText(data, 'Markdown file'));
  env.checkpoint();
  const tokens = markdownBlocks(source);
  env.checkpoint();
  const levels: string[] = [];
  let headingPath: string[] = [];
  let paragraphs: string[] = [];
  // Plain code, no closures: tsx, which runs the benchmark and the tests, wraps every named
  // closure when it is created.
  for (const token of tokens) {
    if (token.type === 'heading') {
      if (paragraphs.length > 0) env.out.push({ text: paragraphs.join('\n\n'), headingPath });
      paragraphs = [];
      const depth = (token as { depth: number }).depth;
      const title = plainInline((token as { text: string }).text);
      if (title.length > 0) {
        levels.length = depth;
        levels[depth - 1] = title;
        headingPath = presentLevels(levels);
      }
      continue;
    }
    if (token.type === 'space' || token.type === 'hr' || token.type === 'def') continue;
    const text = token.raw.trim();
    if (text.length > 0) paragraphs.push(text);
  }
  if (paragraphs.length > 0) env.out.push({ text: paragraphs.join('\n\n'), headingPath });
  return { sections: env.out.sections, parser: 'md:marked', warnings: env.warnings };
}

/** The heading levels that are set (a document may skip levels, leaving holes). */
function presentLevels(levels: string[]): string[] {
  const path: string[] = [];
  for (let k = 0; k < levels.length; k++) {
    const x = levels[k];
    if (typeof x === 'string' && x.length > 0) path.push(x);
  }
  return path;
}

/** What makes plainInline's replacements do anything: markup characters or whitespace other than single spaces. */
const INLINE_MARKUP = /[[*_`~]|\s\s|[^\S ]/;

/** Heading text without the commonest inline markup: emphasis, code ticks, link targets. */
function plainInline(text: string): string {
  // Most headings are plain words: nothing for the replacements below to change.
  if (!INLINE_MARKUP.test(text)) return text.trim();
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`~]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** marked's top-level block tokens of `source` (list items are not lexed inside). */
export function markdownBlocks(source: string): Token[] {
  return new Lexer({ gfm: true, tokenizer: new TopLevelTokenizer() }).blockTokens(source);
}
