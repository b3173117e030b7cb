/**
 * marked's block tokenizer, cut down to what parse/markdown.ts reads: each top-level token's
 * type and `raw` (and a heading's depth and text). Every override decides exactly what stock
 * marked decides — where a block ends, whether it is one at all — and only skips the work whose
 * results are thrown away: list items' contents, table cells, and regexes that cannot match.
 * chunk-markdown.test.ts compares the tokens with stock marked on real READMEs and generated
 * Markdown.
 */
import { Tokenizer, type Tokens } from 'marked';
import { indentEnd, lexList } from './markdown-list.js';

export class TopLevelTokenizer extends Tokenizer {
  /*
   * marked tries each block pattern in turn at every block. Each of these begins with ` {0,3}` and
   * one given character (blank-line runs with a line feed after spaces and tabs, indented code
   * with a fourth space or a tab), so a block that starts otherwise skips them without a match.
   */
  override space(src: string): Tokens.Space | undefined {
    let i = 0;
    while (src.charCodeAt(i) === 32 || src.charCodeAt(i) === 9) i++;
    return i < src.length && src.charCodeAt(i) !== 10 ? undefined : super.space(src);
  }

  override code(src: string): Tokens.Code | undefined {
    // Four spaces, or up to three and a tab.
    const i = indentEnd(src);
    const c = src.charCodeAt(i);
    return c === 9 || (i === 3 && c === 32) ? super.code(src) : undefined;
  }

  override fences(src: string): Tokens.Code | undefined {
    const c = src.charCodeAt(indentEnd(src));
    return c === 96 || c === 126 ? super.fences(src) : undefined; // ` ~
  }

  override heading(src: string): Tokens.Heading | undefined {
    return src.charCodeAt(indentEnd(src)) === 35 ? super.heading(src) : undefined; // #
  }

  override hr(src: string): Tokens.Hr | undefined {
    const c = src.charCodeAt(indentEnd(src));
    return c === 45 || c === 95 || c === 42 ? super.hr(src) : undefined; // - _ *
  }

  override blockquote(src: string): Tokens.Blockquote | undefined {
    return src.charCodeAt(indentEnd(src)) === 62 ? super.blockquote(src) : undefined; // >
  }

  override html(src: string): Tokens.HTML | undefined {
    return src.charCodeAt(indentEnd(src)) === 60 ? super.html(src) : undefined; // <
  }

  override def(src: string): Tokens.Def | undefined {
    return src.charCodeAt(indentEnd(src)) === 91 ? super.def(src) : undefined; // [
  }

  /**
   * marked tries its GFM table pattern at every block, and that pattern is slow to fail. A table
   * needs a delimiter row right after the first line (` {0,3}` then `|`, `:` or `-`: the start
   * of marked's own pattern, whose first line cannot hold a line feed), so without one the
   * answer is known — no table — without running it. A table that is one keeps its raw text only:
   * marked's condition (as many header cells as delimiter cells) is checked, no cell is built.
   */
  override table(src: string): Tokens.Table | undefined {
    const nl = src.indexOf('\n');
    if (nl < 0) return undefined;
    let i = nl + 1;
    while (i < nl + 4 && src.charCodeAt(i) === 32) i++;
    const c = src.charCodeAt(i);
    if (c !== 124 && c !== 58 && c !== 45) return undefined; // | : -
    const cap = this.rules.block.table.exec(src);
    if (!cap || !this.rules.other.tableDelimiter.test(cap[2]!)) return undefined;
    const aligns = cap[2]!.replace(this.rules.other.tableAlignChars, '').split('|').length;
    if (headerCells(cap[1]!, this.rules.other) !== aligns) return undefined;
    return { type: 'table', raw: trimTrailing(cap[0], '\n'), header: [], align: [], rows: [] };
  }

  /**
   * A setext heading needs an underline (` {0,3}` then `=` or `-`) on a later line of the same
   * paragraph: marked's pattern lets no line break of its text start a blank line. So a scan to
   * the first blank line that meets no underline candidate has the answer — no heading — without
   * the pattern, which runs a long look-ahead at every line break and then fails on nearly
   * every paragraph.
   */
  override lheading(src: string): Tokens.Heading | undefined {
    let nl = src.indexOf('\n');
    while (nl >= 0) {
      let i = nl + 1;
      while (i < nl + 4 && src.charCodeAt(i) === 32) i++;
      const c = src.charCodeAt(i);
      if (c === 61 || c === 45) return super.lheading(src); // = -
      // A blank line (only spaces, tabs, \v, \f or \r before the next line feed) ends the paragraph.
      while (i < src.length && isBlankLineSpace(src.charCodeAt(i))) i++;
      if (src.charCodeAt(i) === 10) return undefined;
      nl = src.indexOf('\n', i);
    }
    return undefined;
  }

  /** List items' extent only: see markdown-list.ts. */
  override list(src: string): Tokens.List | undefined {
    return lexList(this, src);
  }
}

type OtherRules = TopLevelTokenizer['rules']['other'];

/** How many cells marked's `splitCells` finds in a table's header row. */
function headerCells(row: string, other: OtherRules): number {
  const escaped = row.replace(other.findPipe, (_match, offset: number, str: string) => {
    let odd = false;
    let k = offset;
    while (--k >= 0 && str[k] === '\\') odd = !odd;
    return odd ? '|' : ' |';
  });
  const cells = escaped.split(other.splitPipe);
  if (!cells[0]!.trim()) cells.shift();
  if (cells.length > 0 && !cells.at(-1)?.trim()) cells.pop();
  return cells.length;
}

/** marked's `rtrim(str, c)`: `str` without the run of `c` at its end. */
function trimTrailing(str: string, c: string): string {
  let n = str.length;
  while (n > 0 && str[n - 1] === c) n--;
  return str.slice(0, n);
}

/** Space, tab, \v, \f, \r: white space that may sit on a blank line before its line feed. */
function isBlankLineSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 13;
}
