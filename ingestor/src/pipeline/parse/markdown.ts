/**
 * Markdown → sections, headings from marked's block lexer (ATX and setext headings, and it knows
 * that a "# comment" inside a fenced code block is not one). Inline markup is left as written:
 * only block tokens are needed, which keeps this fast.
 */
import { Lexer, Tokenizer, type Token, type Tokens, type TokensList } from 'marked';
import type { ParsedDocument } from '../types.js';
import { decodeText, normalizeNewlines, type ParserEnv } from './sink.js';

export function parseMarkdown(data: Uint8Array, env: ParserEnv): ParsedDocument {
  const source = normalizeNewlines(decodeText(data, 'Markdown file'));
  env.checkpoint();
  const tokens = markdownBlocks(source);
  env.checkpoint();
  const levels: string[] = [];
  let headingPath: string[] = [];
  let paragraphs: string[] = [];
  const flush = (): void => {
    if (paragraphs.length > 0) env.out.push({ text: paragraphs.join('\n\n'), headingPath });
    paragraphs = [];
  };
  for (const token of tokens) {
    if (token.type === 'heading') {
      flush();
      const depth = (token as { depth: number }).depth;
      const title = plainInline((token as { text: string }).text);
      if (title.length > 0) {
        levels.length = depth;
        levels[depth - 1] = title;
        headingPath = levels.filter((x) => typeof x === 'string' && x.length > 0);
      }
      continue;
    }
    if (token.type === 'space' || token.type === 'hr' || token.type === 'def') continue;
    const text = token.raw.trim();
    if (text.length > 0) paragraphs.push(text);
  }
  flush();
  return { sections: env.out.sections, parser: 'md:marked', warnings: env.warnings };
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
  const lexer = new TopLevelLexer({ gfm: true, tokenizer: new TopLevelTokenizer() });
  return lexer.blockTokens(source);
}

/**
 * Only top-level tokens and their `raw` text are used, so the contents of list items need not be
 * lexed: marked's list tokenizer has fixed the list's `raw` before it lexes each item (that pass
 * only decides `loose` and the items' child tokens). The item pass always ended by setting
 * `state.top` back to true, so that is kept. chunk-markdown.test.ts checks the tokens against
 * stock marked on real READMEs.
 */
class TopLevelLexer extends Lexer {
  skipBlocks = false;

  override blockTokens(src: string, tokens?: Token[], lastParagraphClipped?: boolean): Token[];
  override blockTokens(src: string, tokens?: TokensList, lastParagraphClipped?: boolean): TokensList;
  override blockTokens(src: string, tokens: Token[] = [], lastParagraphClipped?: boolean): Token[] {
    if (this.skipBlocks) return tokens;
    return super.blockTokens(src, tokens, lastParagraphClipped);
  }
}

class TopLevelTokenizer extends Tokenizer {
  /**
   * marked tries its GFM table pattern at every block, and that pattern is slow to fail. A table
   * needs a delimiter row right after the first line (` {0,3}` then `|`, `:` or `-`: the start
   * of marked's own pattern, whose first line cannot hold a line feed), so without one the
   * answer is known — no table — without running it.
   */
  override table(src: string): Tokens.Table | undefined {
    const nl = src.indexOf('\n');
    if (nl < 0) return undefined;
    let i = nl + 1;
    while (i < nl + 4 && src.charCodeAt(i) === 32) i++;
    const c = src.charCodeAt(i);
    if (c !== 124 && c !== 58 && c !== 45) return undefined; // | : -
    return super.table(src);
  }

  override list(src: string): Tokens.List | undefined {
    const lexer = this.lexer as TopLevelLexer;
    lexer.skipBlocks = true;
    try {
      const token = super.list(src);
      if (token) lexer.state.top = true;
      return token;
    } finally {
      lexer.skipBlocks = false;
    }
  }
}
