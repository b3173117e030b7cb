import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lexer } from 'marked';
import { describe, expect, it } from 'vitest';
import { markdownBlocks } from '../src/pipeline/parse/markdown.js';

/** What parseMarkdown reads of each top-level token: its type, raw text and heading fields. */
function shape(tokens: ReturnType<typeof markdownBlocks>): unknown[] {
  return tokens.map((t) => [t.type, t.raw, (t as { depth?: number }).depth, (t as { text?: string }).text]);
}

function stock(source: string): unknown[] {
  return shape(new Lexer({ gfm: true }).blockTokens(source));
}

describe('markdown blocks without lexing list items', () => {
  it('gives the same top-level tokens as stock marked on real READMEs', () => {
    const root = join(import.meta.dirname, '../../node_modules');
    let checked = 0;
    for (const d of readdirSync(root).sort()) {
      if (d.startsWith('.') || d.startsWith('@')) continue;
      let source: string;
      try {
        source = readFileSync(join(root, d, 'README.md'), 'utf8').replace(/\r\n?/g, '\n');
      } catch {
        continue;
      }
      expect(shape(markdownBlocks(source)), d).toEqual(stock(source));
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('gives the same tokens around nested, loose, task and quoted lists', () => {
    const cases = [
      '- a\n- b\n\n  nested para\n\n  - c\n    - d\n\nafter the list\n',
      '1. one\n2. two\n\n3. three (loose)\n\nText\n===\n',
      '- [ ] todo\n- [x] done\n  # heading in item\n\n# Real heading\n',
      '> quote\n> - in list\n>   more\n\nparagraph\nlazy line\n- list interrupts\n',
      '* a\n\n      code in item\n* b\n[ref]: http://example.com\n\n```\n- not a list\n```\n',
      'para\n- item right after a paragraph\n\n+ other bullet\n+ again\n\n---\n',
    ];
    for (const md of cases) expect(shape(markdownBlocks(md)), md).toEqual(stock(md));
  });
});
