import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { countTokens, wordPieceLowerBound } from '../src/pipeline/tokens.js';

/**
 * The definition countTokens must meet exactly: the larger of gpt-tokenizer's cl100k count of the
 * whole text (special-token strings counted as ordinary text) and the WordPiece floor.
 */
function reference(text: string): number {
  if (text.length === 0) return 0;
  return Math.max(cl100k(text, { disallowedSpecial: new Set() }), wordPieceLowerBound(text));
}

/** Real prose: README files of installed packages (the same corpus as `npm run bench:parse`). */
function readmes(count: number): string[] {
  const root = join(import.meta.dirname, '../../node_modules');
  const out: string[] = [];
  for (const d of readdirSync(root).sort()) {
    if (d.startsWith('.') || d.startsWith('@')) continue;
    try {
      const text = readFileSync(join(root, d, 'README.md'), 'utf8');
      if (text.length > 2000) out.push(text);
    } catch {
      // no README
    }
    if (out.length >= count) break;
  }
  return out;
}

/** Deterministic random strings over an alphabet rich in the characters the cut rules look at. */
function fuzz(seed: number, length: number): string {
  const alphabet = [
    ' ',
    ' ',
    ' ',
    ' ',
    '\n',
    '\n',
    '\r',
    '\t',
    '\u00a0',
    '\u2009',
    '\u3000',
    '\u0085',
    '\u180e',
    'a',
    'e',
    'the',
    'Word',
    'x',
    'É',
    'ß',
    'ы',
    '日',
    '本',
    'ー',
    'の',
    '😀',
    '\ud83d',
    '\ude00',
    '1',
    '23',
    '4567',
    '.',
    ',',
    '!',
    '?',
    '-',
    '---',
    '|',
    '#',
    '`',
    "'",
    "'s",
    "'ll",
    "'T",
    '"',
    '(',
    ')',
    '*',
    '_',
    '/',
    '\\',
    '<|endoftext|>',
    '\u0301',
    '\u200b',
    '\ufeff',
    '\v',
    '\f',
  ];
  let s = seed >>> 0 || 1;
  let out = '';
  while (out.length < length) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += alphabet[(s >>> 8) % alphabet.length];
  }
  return out;
}

describe('countTokens', () => {
  it('equals max(cl100k of the whole text, WordPiece floor) on real prose', () => {
    const docs = readmes(40);
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) {
      expect(countTokens(doc)).toBe(reference(doc));
      // Paragraphs and lines too: the chunker counts these.
      for (const part of doc.split(/\n\n/).slice(0, 50)) expect(countTokens(part)).toBe(reference(part));
    }
  });

  it('equals the reference on adversarial whitespace, Unicode and punctuation', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const text = fuzz(seed, 1 + (seed % 97) * 3);
      expect(countTokens(text), JSON.stringify(text)).toBe(reference(text));
    }
    const cases = [
      'a  b',
      'a \n b',
      'end.\n\nNext',
      'word\n\n  Indented',
      'tail   ',
      'tail\n',
      ' lead',
      '\n\nlead',
      "it's  they'll \n'S",
      'x'.repeat(300) + ' ' + 'y'.repeat(70),
      'http://example.com/a/very/long/path/that/is/over/sixty/four/characters/long?q=1 ok',
      '<|endoftext|> is text here',
      "they'very 'reason 'llama 'Dog 'Tree 'marks 'sand 'VEry 'RElax 'LLM 'x",
      '\rword \nword \tword \u000bword ,word  \r\n  word',
    ];
    for (const text of cases) expect(countTokens(text), JSON.stringify(text)).toBe(reference(text));
  });

  it('gives the same answer cached and uncached', () => {
    const text = readmes(3).join('\n\n');
    const first = countTokens(text);
    expect(countTokens(text)).toBe(first);
    expect(first).toBe(reference(text));
  });
});

/** ASCII only: exercises the in-place pre-tokenizer and merge (control characters included). */
function asciiFuzz(seed: number, length: number): string {
  const alphabet = [
    ' ',
    ' ',
    ' ',
    '\n',
    '\r',
    '\t',
    '\v',
    '\f',
    'a',
    'Z',
    'the',
    'ing',
    'Word',
    "'",
    "'s",
    "'S",
    "'ll",
    "'lL",
    "'Ve",
    "'re",
    "'d",
    "'m",
    "'t",
    "'x",
    '0',
    '12',
    '3456',
    '.',
    ',',
    '-',
    '--',
    '_',
    '(',
    ')',
    '"',
    '`',
    '#',
    '|',
    '/',
    '\\',
    '\u0000',
    '\u0007',
    '\u007f',
    'internationalization',
    'qzxv',
  ];
  let s = seed >>> 0 || 1;
  let out = '';
  while (out.length < length) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += alphabet[(s >>> 8) % alphabet.length];
  }
  return out;
}

describe('countTokens ASCII path', () => {
  it('splits and merges ASCII text exactly as gpt-tokenizer does', () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const text = asciiFuzz(seed, 1 + (seed % 61) * 5);
      expect(countTokens(text), JSON.stringify(text)).toBe(reference(text));
    }
    // Segments over the cache limit take the same path uncached.
    const long = asciiFuzz(7, 5000).replace(/ /g, '_');
    expect(countTokens(long)).toBe(reference(long));
  });
});

describe('countTokens cache', () => {
  it('stays exact when the segment cache fills up and is emptied', () => {
    // 250 000 distinct words: more than the cache holds, so it is cleared on the way.
    const words = Array.from({ length: 250_000 }, (_, i) => `w${i.toString(36)}x`);
    const text = words.join(' ');
    expect(countTokens(text)).toBe(reference(text));
    expect(countTokens(words.slice(0, 1000).join(' '))).toBe(reference(words.slice(0, 1000).join(' ')));
  });
});
