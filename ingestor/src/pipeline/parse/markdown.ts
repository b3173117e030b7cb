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

/** Heading text without the commonest inline markup: emphasis, code ticks, link targets. */
function plainInline(text: string): string {
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
