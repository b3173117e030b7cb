import { describe, expect, it } from 'vitest';
import { chunkDocument, chunkSections } from '../src/pipeline/chunk.js';
import { chunkTokensFor, countTokens, HARD_MAX_TOKENS, wordPieceLowerBound } from '../src/pipeline/tokens.js';
import type { Chunk, Section } from '../src/pipeline/types.js';
import { prose } from './fixtures.js';

const silent = { debug() {}, info() {}, warn() {} };
const opts = { targetTokens: 100, overlap: 0.15 };

function assertWithin(chunks: Chunk[], max: number): void {
  for (const c of chunks) {
    expect(c.tokenCount).toBeLessThanOrEqual(max);
    // The stored count is an upper bound of counting the chunk's text as a whole.
    expect(countTokens(c.text)).toBeLessThanOrEqual(c.tokenCount);
  }
}

describe('tokens', () => {
  it('counts with a real BPE and never below the WordPiece punctuation floor', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
    // BPE packs a rule of dashes into a few tokens; BERT makes one token per dash.
    const rule = '-'.repeat(64);
    expect(wordPieceLowerBound(rule)).toBe(64);
    expect(countTokens(rule)).toBe(64);
    expect(wordPieceLowerBound('日本語 text, ok.')).toBe(3 + 1 + 1 + 1 + 1);
  });

  it('states a hard maximum under the model context', () => {
    expect(HARD_MAX_TOKENS).toBeLessThan(2048);
    expect(HARD_MAX_TOKENS).toBe(1587);
  });
});

describe('chunk', () => {
  it('keeps short sections whole, one chunk per heading path, with metadata', () => {
    const sections: Section[] = [
      { text: 'Intro para.', headingPath: [] },
      { text: 'First.\n\nSecond.', headingPath: ['A'], page: 1 },
      { text: 'Third on page two.', headingPath: ['A'], page: 2 },
      { text: 'Deep.', headingPath: ['A', 'B'], page: 2 },
    ];
    const chunks = chunkSections(sections, opts);
    expect(
      chunks.map(({ index, text, heading, headingPath, page, pageEnd }) => ({
        index,
        text,
        heading,
        headingPath,
        page,
        pageEnd,
      })),
    ).toEqual([
      { index: 0, text: 'Intro para.', heading: '', headingPath: [], page: undefined, pageEnd: undefined },
      {
        index: 1,
        text: 'First.\n\nSecond.\n\nThird on page two.',
        heading: 'A',
        headingPath: ['A'],
        page: 1,
        pageEnd: 2,
      },
      { index: 2, text: 'Deep.', heading: 'A > B', headingPath: ['A', 'B'], page: 2, pageEnd: undefined },
    ]);
    expect(chunks[1]!.tokenCount).toBeGreaterThanOrEqual(countTokens(chunks[1]!.text));
    // Where page 2 begins inside the passage, so a hit there opens page 2.
    expect(chunks[1]!.pageBreaks).toHaveLength(1);
    const [offset, page] = chunks[1]!.pageBreaks![0]!;
    expect(page).toBe(2);
    expect(chunks[1]!.text.slice(offset)).toBe('Third on page two.');
    expect(chunks[0]!.pageBreaks).toBeUndefined();
    expect(chunks[2]!.pageBreaks).toBeUndefined();
  });

  it('records every page break of a passage over several pages, after its heading line', () => {
    const sections: Section[] = [1, 2, 3].map((page) => ({
      text: `Text of page ${page}.`,
      headingPath: ['Long'],
      page,
    }));
    const [chunk] = chunkSections(sections, { targetTokens: 400, overlap: 0 });
    expect(chunk!.page).toBe(1);
    expect(chunk!.pageEnd).toBe(3);
    expect(chunk!.pageBreaks!.map(([o, p]) => [chunk!.text.slice(o, o + 14), p])).toEqual([
      ['Text of page 2', 2],
      ['Text of page 3', 3],
    ]);
  });

  it('packs paragraphs to the target, cuts only between paragraphs when they fit, and overlaps', () => {
    const paragraphs = Array.from(
      { length: 30 },
      (_, i) => `Paragraph ${i} ${prose(30, i + 1).replace(/\n\n/g, ' ')}`,
    );
    const chunks = chunkSections([{ text: paragraphs.join('\n\n'), headingPath: ['Doc'] }], opts);
    expect(chunks.length).toBeGreaterThan(5);
    assertWithin(chunks, 100);
    for (const c of chunks) {
      // Every paragraph fits the target, so none is cut: each chunk is a run of whole paragraphs,
      // possibly preceded by an overlap tail of the previous one.
      const parts = c.text.split('\n\n');
      for (const p of parts.slice(1)) expect(paragraphs).toContain(p);
    }
    // Consecutive chunks share text: the next starts with the previous one's end.
    let overlapped = 0;
    for (let i = 1; i < chunks.length; i++) {
      const head = chunks[i]!.text.split('\n\n')[0]!;
      if (chunks[i - 1]!.text.endsWith(head)) overlapped++;
      // The overlap is a sentence tail within 15% of the target.
      expect(countTokens(head)).toBeLessThanOrEqual(15);
    }
    expect(overlapped).toBe(chunks.length - 1);
    // All of the text is covered, in order.
    const joined = chunks.map((c) => c.text).join('\n\n');
    for (const p of paragraphs) expect(joined).toContain(p);
  });

  it('overlap is about the configured fraction and can be turned off', () => {
    const text = prose(3000, 7);
    const none = chunkSections([{ text, headingPath: [] }], { targetTokens: 200, overlap: 0 });
    const some = chunkSections([{ text, headingPath: [] }], { targetTokens: 200, overlap: 0.2 });
    expect(some.length).toBeGreaterThan(none.length);
    const total = (cs: Chunk[]): number => cs.reduce((n, c) => n + c.tokenCount, 0);
    expect(total(some)).toBeGreaterThan(total(none));
    for (let i = 1; i < some.length; i++) {
      const prev = some[i - 1]!.text;
      const cur = some[i]!.text;
      // Find the shared boundary: the longest prefix of `cur` that ends `prev`.
      let shared = 0;
      for (let n = Math.min(prev.length, cur.length); n > 0; n--) {
        if (prev.endsWith(cur.slice(0, n))) {
          shared = n;
          break;
        }
      }
      expect(shared).toBeGreaterThan(0);
      expect(countTokens(cur.slice(0, shared))).toBeLessThanOrEqual(40 + 2);
    }
  });

  it('splits an overlong paragraph on sentences, then words, then characters', () => {
    const longParagraph = prose(2000, 3).replace(/\n\n/g, ' ');
    const noSpaces = 'x'.repeat(5000);
    const chunks = chunkSections(
      [
        { text: longParagraph, headingPath: ['Long'] },
        { text: `${'word '.repeat(600)}`, headingPath: ['Words'] },
        { text: noSpaces, headingPath: ['Blob'] },
      ],
      { targetTokens: 120, overlap: 0 },
    );
    assertWithin(chunks, 120);
    const long = chunks.filter((c) => c.heading === 'Long');
    expect(long.length).toBeGreaterThan(10);
    // Sentence cuts: every chunk of prose ends at a full stop.
    for (const c of long) expect(c.text.endsWith('.')).toBe(true);
    expect(chunks.filter((c) => c.heading === 'Words').length).toBeGreaterThan(1);
    const blob = chunks.filter((c) => c.heading === 'Blob');
    expect(blob.map((c) => c.text).join('')).toBe(noSpaces);
  });

  it('never exceeds the hard maximum even when the target is larger', () => {
    const text = prose(20000, 11);
    const chunks = chunkSections([{ text: text.replace(/\n\n/g, ' '), headingPath: [] }], {
      targetTokens: 5000,
      overlap: 0.1,
    });
    expect(chunks.length).toBeGreaterThan(5);
    assertWithin(chunks, HARD_MAX_TOKENS);
    expect(Math.max(...chunks.map((c) => c.tokenCount))).toBeGreaterThan(HARD_MAX_TOKENS * 0.8);
  });

  it('repeats a table header in every chunk of rows', () => {
    const rows = Array.from({ length: 200 }, (_, i) => `row ${i} | value ${i * 7} | city ${i % 13}`);
    const chunks = chunkSections(
      [{ text: rows.join('\n'), headingPath: ['Sheet1'], header: 'id | value | city' }],
      {
        targetTokens: 80,
        overlap: 0,
      },
    );
    expect(chunks.length).toBeGreaterThan(5);
    assertWithin(chunks, 80);
    for (const c of chunks) expect(c.text.startsWith('id | value | city\n')).toBe(true);
    const body = chunks.flatMap((c) => c.text.split('\n').slice(1));
    expect(body).toEqual(rows);
  });

  it('is deterministic', async () => {
    const sections: Section[] = [
      { text: prose(5000, 5), headingPath: ['X'], page: 1 },
      { text: prose(800, 6), headingPath: ['X'], page: 2 },
      { text: prose(1200, 8), headingPath: ['Y'] },
    ];
    const ctx = { signal: new AbortController().signal, log: silent };
    const doc = { sections, parser: 'test', warnings: [] };
    const a = await chunkDocument(doc, { targetTokens: 400, overlap: 0.15 }, ctx);
    const b = await chunkDocument(structuredClone(doc), { targetTokens: 400, overlap: 0.15 }, ctx);
    expect(b).toEqual(a);
    expect(a.map((c) => c.index)).toEqual(a.map((_, i) => i));
    expect(a.some((c) => c.page === 1 && c.pageEnd === 2)).toBe(true);
  });

  it('rejects bad options and honours abort', async () => {
    expect(() => chunkSections([], { targetTokens: 0, overlap: 0 })).toThrow(RangeError);
    expect(() => chunkSections([], { targetTokens: 100, overlap: 0.9 })).toThrow(RangeError);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(
      chunkDocument({ sections: [{ text: 'a', headingPath: [] }], parser: 't', warnings: [] }, opts, {
        signal: ac.signal,
        log: silent,
      }),
    ).rejects.toThrow('stop');
  });
});

describe('chunk size fitted to the embedding model', () => {
  it('derives the target from the context length and warns when CHUNK_TOKENS is over it', () => {
    expect(chunkTokensFor(2048, undefined)).toEqual({ tokens: 400 });
    expect(chunkTokensFor(256, undefined)).toEqual({ tokens: 179 });
    expect(chunkTokensFor(512, undefined)).toEqual({ tokens: 358 });
    expect(chunkTokensFor(undefined, undefined)).toEqual({ tokens: 400 });
    expect(chunkTokensFor(256, 150)).toEqual({ tokens: 150 });
    const over = chunkTokensFor(256, 400);
    expect(over.tokens).toBe(179);
    expect(over.warning).toMatch(/CHUNK_TOKENS=400 is more than the embedding model reads \(256 tokens/);
    expect(chunkTokensFor(8192, 1800).tokens).toBe(HARD_MAX_TOKENS);
  });

  it('never leaves a title or a short lead paragraph alone before a long paragraph', () => {
    const long = Array.from(
      { length: 40 },
      (_, i) => `Sentence number ${i} reports a finding about cells.`,
    ).join(' ');
    const chunks = chunkSections([{ text: `A short title line\n\n${long}`, headingPath: [] }], opts);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]!.text.startsWith('A short title line\n\nSentence number 0')).toBe(true);
    // The first chunk is filled, not cut after the title.
    expect(chunks[0]!.tokenCount).toBeGreaterThan(opts.targetTokens * 0.8);
    assertWithin(chunks, opts.targetTokens);
  });
});
