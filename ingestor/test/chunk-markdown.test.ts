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

/**
 * Documents of random lines built from the pieces the cut-down tokenizers decide on: bullets and
 * their indents and tabs, fences, ATX and setext headings, rules, quotes, HTML, tables, link
 * definitions, blank lines and lazy text. Deterministic (fixed seed).
 */
function generatedMarkdown(count: number, seed: number): string[] {
  let state = seed;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
  const indents = ['', '', '', ' ', '  ', '   ', '    ', '     ', '      ', '\t', ' \t', '\t\t', '  \t'];
  const lines = [
    '- item',
    '* item',
    '+ item',
    '1. one',
    '2) two',
    '10. ten',
    '9. nine',
    '  - nested',
    '    1. deep',
    '- [ ] task',
    '- [x] done',
    '-',
    '*',
    '1.',
    '-\titem',
    '- - -',
    '* * *',
    '___',
    '---',
    '===',
    '= =',
    '-- ',
    '```',
    '```js',
    '~~~',
    '````',
    '``` a`b',
    '# h1',
    '## h2 ##',
    '#nohead',
    '###### h6',
    '> quote',
    '>',
    '> - q item',
    '<div>',
    '</div>',
    '<!-- c -->',
    '<pre>',
    '</pre>',
    '<span>x</span>',
    '| a | b |',
    '|---|---|',
    '| :-: | --: |',
    'a | b',
    '--- | ---',
    'x\\|y | z',
    '[ref]: http://x.y "t"',
    '[ref]:',
    'word word word',
    'Some text here.',
    'lazy',
    'text *em* `code`',
    '',
    '',
    '',
    '   ',
    '\t',
    '\u00a0',
    '+++',
  ];
  const docs: string[] = [];
  for (let k = 0; k < count; k++) {
    const doc: string[] = [];
    const length = 1 + Math.floor(random() * 25);
    for (let i = 0; i < length; i++) doc.push(pick(indents) + pick(lines));
    docs.push(doc.join('\n') + (random() < 0.5 ? '\n' : ''));
  }
  return docs;
}

describe('markdown blocks from the cut-down tokenizers', () => {
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

  it('gives the same tokens as stock marked on 5,000 generated documents', () => {
    for (const md of generatedMarkdown(5000, 1)) {
      expect(shape(markdownBlocks(md)), JSON.stringify(md)).toEqual(stock(md));
    }
  });
});
