/**
 * The list tokenizer of parse/markdown-tokenizer.ts: marked's (18.x, `pedantic` off) rules for
 * where a list ends, with only the list's raw text kept.
 */
import type { Tokenizer, Tokens } from 'marked';

/**
 * marked's `Tokenizer.list` deciding where each item and the list end, line by line with the same
 * tests in the same order — without collecting the items' text, task boxes and looseness, and
 * without lexing the items' contents, which parse/markdown.ts never reads. The six "does this
 * line start a new block" patterns all begin with ` {0,n}` and one of a few characters, so a line
 * whose first non-space character is none of them skips them.
 */
export function lexList(tokenizer: Tokenizer, src: string): Tokens.List | undefined {
  const lead = src.charCodeAt(indentEnd(src));
  if (!(isDigit(lead) || lead === 42 || lead === 43 || lead === 45)) return undefined; // * + -
  const rules = tokenizer.rules;
  const other = rules.other;
  let cap = rules.block.list.exec(src);
  if (!cap) return undefined;
  if (tokenizer.lexer.state.lastToken?.type === 'text' && !other.listInterruptsParagraph.test(src)) {
    return undefined;
  }
  const whole = src;
  let bull = cap[1]!.trim();
  const ordered = bull.length > 1;
  const start = ordered ? +bull.slice(0, -1) : '';
  bull = ordered ? `\\d{1,9}\\${bull.slice(-1)}` : `\\${bull}`;
  const itemRegex = other.listItemRegex(bull);
  let items = 0;
  while (src) {
    if (!(cap = itemRegex.exec(src)) || rules.block.hr.test(src)) break;
    items++;
    src = src.substring(cap[0].length);
    const bulletLength = cap[1]!.length;
    const first = firstLine(cap[2]!);
    const firstExpanded = hasLeadingTab(first)
      ? first.replace(other.leadingSpaceTab, (s) => expandTabs(s, bulletLength))
      : first;
    let nextLine = firstLine(src);
    let blank = isBlank(firstExpanded);
    let indent: number;
    if (blank) {
      indent = bulletLength + 1;
    } else {
      indent = firstExpanded.search(other.nonSpaceChar);
      indent = indent > 4 ? 1 : indent;
      indent += bulletLength;
    }
    if (blank && other.blankLine.test(nextLine)) {
      src = src.substring(nextLine.length + 1);
      continue;
    }
    const nextBullet = other.nextBulletRegex(indent);
    const hr = other.hrRegex(indent);
    const fencesBegin = other.fencesBeginRegex(indent);
    const headingBegin = other.headingBeginRegex(indent);
    const htmlBegin = other.htmlBeginRegex(indent);
    const blockquoteBegin = other.blockquoteBeginRegex(indent);
    const maxLead = Math.max(0, Math.min(3, indent - 1));
    // marked's `itemContents.includes('\n')`: a line was added after the first.
    let added = false;
    let lastLineLazy = false;
    // The previous line with tabs expanded (undefined: the bullet line), for `f` below.
    let previous: string | undefined;
    while (src) {
      const raw = firstLine(src);
      nextLine = raw;
      const line = hasLeadingTab(nextLine)
        ? nextLine.replace(other.leadingSpaceTab, (s) => expandTabs(s, 0))
        : nextLine;
      if (
        mayStartBlock(nextLine, maxLead) &&
        (fencesBegin.test(nextLine) ||
          headingBegin.test(nextLine) ||
          htmlBegin.test(nextLine) ||
          blockquoteBegin.test(nextLine) ||
          nextBullet.test(nextLine) ||
          hr.test(nextLine))
      ) {
        break;
      }
      if (firstNonSpace(line) >= indent || isBlank(nextLine)) {
        added = true;
        lastLineLazy = false;
      } else {
        if (blank) break;
        const f = previous === undefined ? firstExpanded : previous.slice(indent);
        let rest = f;
        if (!added && !f.includes('\t')) {
          let m: RegExpExecArray | null;
          while (!hr.test(rest) && (m = other.nestedBlockMarker.exec(rest))) {
            rest = rest.slice(m[0].length);
          }
          if (!rest.trim()) break;
        }
        if (
          rest.replace(other.tabCharGlobal, '    ').search(other.nonSpaceChar) >= 4 ||
          fencesBegin.test(rest) ||
          headingBegin.test(rest) ||
          htmlBegin.test(rest) ||
          hr.test(rest)
        ) {
          break;
        }
        if (!lastLineLazy) {
          const bare = f.replace(other.nestedContainerMarkers, '');
          if (rules.block.fences.test(bare) || rules.block.heading.test(bare) || rules.block.hr.test(bare)) {
            break;
          }
        }
        added = true;
        lastLineLazy = true;
      }
      blank = isBlank(nextLine);
      src = src.substring(raw.length + 1);
      previous = line;
    }
  }
  if (items === 0) return undefined;
  // As marked's list tokenizer leaves it after lexing the items.
  tokenizer.lexer.state.top = true;
  const raw = whole.slice(0, whole.length - src.length).trimEnd();
  return { type: 'list', raw, ordered, start, loose: false, items: [] };
}

/** `text.split('\n', 1)[0]` without the array. */
function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/** marked's tab expansion (`indentCodeCompensation`'s helper) from column `column`. */
function expandTabs(text: string, column: number): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\t') {
      const width = 4 - (column % 4);
      out += ' '.repeat(width);
      column += width;
    } else {
      out += ch;
      column++;
    }
  }
  return out;
}

/** A tab in the leading run of spaces and tabs: the only case where `^[ \t]+` expansion changes the line. */
function hasLeadingTab(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 9) return true;
    if (c !== 32) return false;
  }
  return false;
}

/** `line.search(/[^ ]/)`. */
function firstNonSpace(line: string): number {
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) !== 32) return i;
  return -1;
}

/** `!line.trim()`: only JavaScript white space and line terminators. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (!isJsSpace(line.charCodeAt(i))) return false;
  return true;
}

function isJsSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Whether one of the list's block-start patterns (` {0,n}` then a fence, `#`, `<`, `>`, a bullet
 * or an hr) could match `line`: at most `maxLead` spaces, then one of their first characters.
 */
function mayStartBlock(line: string, maxLead: number): boolean {
  let i = 0;
  while (i <= maxLead && line.charCodeAt(i) === 32) i++;
  if (i > maxLead) return false;
  const c = line.charCodeAt(i);
  return (
    isDigit(c) || // ordered bullets
    c === 96 || // `
    c === 126 || // ~
    c === 35 || // #
    c === 60 || // <
    c === 62 || // >
    c === 42 || // *
    c === 43 || // +
    c === 45 || // -
    c === 95 // _
  );
}

/** Where a block's text starts after the up to three spaces of indentation every pattern allows. */
export function indentEnd(src: string): number {
  let i = 0;
  while (i < 3 && src.charCodeAt(i) === 32) i++;
  return i;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
