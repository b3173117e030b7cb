import { describe, expect, it } from 'vitest';
import {
  asciiSentences,
  icuSentences,
  sentences,
  SentencesFromEnd,
} from '../src/pipeline/chunk-sentences.js';
import { prose } from './fixtures.js';

/** Random ASCII texts from pieces of every Sentence_Break class (fixed seed). */
function generated(count: number, seed: number, maxPieces: number): string[] {
  let state = seed;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const pieces = [
    'a',
    'z',
    'A',
    'Z',
    '1',
    '9',
    '.',
    '.',
    '!',
    '?',
    ' ',
    '  ',
    '\t',
    '\n',
    '\r',
    '\r\n',
    '\n\n',
    '"',
    "'",
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    ',',
    '-',
    ':',
    ';',
    '#',
    '_',
    '*',
    '/',
    '\x0b',
    '\x0c',
    '\x01',
    '\x1f',
    '\x7f',
    'e.g.',
    'U.S.',
    'Mr. ',
    '3.14',
    '...',
    'word',
    'Word',
    ' the ',
    'End.',
    'x?!',
    '." ',
    '.) a',
    '`',
    '<',
    '@',
    '&',
    '\\',
  ];
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let text = '';
    const length = Math.floor(random() * maxPieces);
    for (let i = 0; i < length; i++) text += pieces[Math.floor(random() * pieces.length)]!;
    out.push(text);
  }
  return out;
}

describe('sentence boundaries', () => {
  it('are ICU’s own for ASCII text', () => {
    const cases = [
      'e.g. this is one. U.S. Army is two.',
      'Pi is 3.14 exactly. Really?! Yes.',
      'He said "stop." Then left.\r\nNew line; more: yes.',
      'Ends with a space. ',
      'a.b.c. D',
      ...generated(20_000, 1, 20),
      ...generated(2_000, 2, 80),
      prose(2000, 3),
    ];
    for (const text of cases) expect(asciiSentences(text), JSON.stringify(text)).toEqual(icuSentences(text));
  });

  it('go to ICU for other text, and read backwards the same either way', () => {
    const text = 'Première phrase. Deuxième phrase ici! Troisième?';
    expect(asciiSentences(text)).toBeUndefined();
    expect(sentences(text)).toEqual(icuSentences(text).map((s) => s.trim()));
    for (const t of [text, 'One here. Two here. Three here.']) {
      const backwards = new SentencesFromEnd(t);
      const seen: string[] = [];
      for (let s = backwards.previous(); s !== undefined; s = backwards.previous()) seen.push(s);
      expect(seen).toEqual(icuSentences(t).reverse());
    }
  });
});
