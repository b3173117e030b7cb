import { describe, expect, it } from 'vitest';
import type { ChunkPayload } from '@rattgllm/core';
import { estimateTokens, formatPassage, selectPassages, type Passage } from '../src/retrieval/context.js';
import {
  joinChunks,
  overlapLength,
  widenPassages,
  windowRanges,
  windowRadius,
} from '../src/retrieval/window.js';

const DOC = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

/** Five chunks of one section as the chunker cuts them: each starts with the previous one's last sentence. */
const sentences = [
  'Alpha opens the report.',
  'Bravo follows alpha.',
  'Charlie holds the answer.',
  'Delta comes next.',
  'Echo is near the end.',
  'Foxtrot closes it.',
];
const texts = [0, 1, 2, 3, 4].map((i) => `${sentences[i]} ${sentences[i + 1]}`);
const FULL = sentences.join(' ');

function chunk(i: number, over: Partial<ChunkPayload> = {}): ChunkPayload {
  return {
    document_id: DOC,
    chunk_index: i,
    text: texts[i]!,
    filename: 'report.txt',
    page: 1,
    heading: 'Results',
    principals: ['org'],
    version: 1,
    ...over,
  };
}

function passage(c: ChunkPayload, score = 1): Passage {
  return {
    documentId: c.document_id,
    filename: c.filename,
    chunkIndex: c.chunk_index,
    text: c.text,
    score,
    denseScore: score,
    page: c.page,
    heading: c.heading,
  };
}

const v1 = () => 1;
const all = [0, 1, 2, 3, 4].map((i) => chunk(i));

describe('passage windows', () => {
  it('finds the chunker overlap only on whitespace boundaries', () => {
    expect(overlapLength('one two three', 'three four')).toBe('three'.length);
    expect(overlapLength('one two three', 'two three four')).toBe('two three'.length);
    // "ee" is a suffix and a prefix, but inside words: no overlap.
    expect(overlapLength('one two three', 'eel four')).toBe(0);
    expect(overlapLength('abc', 'xyz')).toBe(0);
  });

  it('joins neighbours in order without repeating their overlap', () => {
    const joined = joinChunks([all[1]!, all[2]!, all[3]!]);
    expect(joined.text).toBe(sentences.slice(1, 5).join(' '));
    expect(joinChunks(all).text).toBe(FULL);
    // No overlap at all: the texts are kept apart by a paragraph break, nothing lost.
    expect(
      joinChunks([
        { text: 'First.', page: 1 },
        { text: 'Second.', page: 1 },
      ]).text,
    ).toBe('First.\n\nSecond.');
  });

  it('skips a header line every chunk of a section repeats', () => {
    const joined = joinChunks([
      { text: 'name,qty\napples,1\npears,2', page: null },
      { text: 'name,qty\npears,2\nplums,3', page: null },
    ]);
    expect(joined.text).toBe('name,qty\napples,1\npears,2\nplums,3');
  });

  it('keeps page ranges and page breaks right for the joined text', () => {
    const a = { text: 'Page one text. Still one.', page: 1 };
    const b = {
      text: 'Still one. Now two. Two again.',
      page: 1,
      page_end: 2,
      page_breaks: [[11, 2]] as [number, number][],
    };
    const c = {
      text: 'Two again. Page three here.',
      page: 2,
      page_end: 3,
      page_breaks: [[11, 3]] as [number, number][],
    };
    const joined = joinChunks([a, b, c]);
    expect(joined.text).toBe('Page one text. Still one. Now two. Two again. Page three here.');
    expect(joined.page).toBe(1);
    expect(joined.pageEnd).toBe(3);
    const at = (page: number) => joined.pageBreaks!.find(([, p]) => p === page)![0];
    expect(joined.text.slice(at(2))).toBe('Now two. Two again. Page three here.');
    expect(joined.text.slice(at(3))).toBe('Page three here.');
    expect(joined.pageBreaks).toHaveLength(2);
    // One page throughout: no breaks, no range.
    expect(joinChunks([all[0]!, all[1]!])).toMatchObject({ page: 1, pageEnd: null, pageBreaks: null });
  });

  it('widens a hit with its neighbours within the budget, following text first', () => {
    const hit = passage(all[2]!);
    const budget = estimateTokens(sentences.slice(2, 5).join(' '));
    const [w] = widenPassages([hit], all, v1, budget);
    // chunk 2 + chunk 3 fit, chunk 1 would not: "Charlie … Delta … Echo".
    expect(w!.text).toBe(sentences.slice(2, 5).join(' '));
    expect(estimateTokens(w!.text)).toBeLessThanOrEqual(budget);
    expect(w!.chunkIndex).toBe(2);
    expect(w!.score).toBe(hit.score);
    const [wide] = widenPassages([hit], all, v1, 10_000);
    expect(wide!.text).toBe(FULL);
    // A budget below the hit itself: the hit alone, never cut.
    expect(widenPassages([hit], all, v1, 1)[0]).toEqual(hit);
  });

  it('merges the windows of two hits of one document', () => {
    const first = passage(all[2]!, 0.9);
    const second = passage(all[3]!, 0.8);
    const far = passage(all[0]!, 0.7);
    const budget = estimateTokens(sentences.slice(1, 5).join(' '));
    const out = widenPassages([first, second, far], all, v1, budget);
    // The second hit lies in the first one's window; the far one gets what is left, no repeats.
    expect(out).toHaveLength(2);
    expect(out[0]!.text).toContain(texts[3]);
    expect(out[1]!.chunkIndex).toBe(0);
    expect(out[1]!.text).toBe(sentences[0]);
    const words = out.map((p) => p.text).join(' ');
    for (const s of sentences) expect(words.split(s).length - 1).toBeLessThanOrEqual(1);
  });

  it('never joins text of another document, version or section', () => {
    const foreign = [
      chunk(3, { document_id: OTHER, text: 'Secret of another document.' }),
      chunk(1, { version: 2, text: 'An older attempt of this document.' }),
      chunk(3, { heading: 'Methods', text: 'Another section entirely.' }),
    ];
    // Only the foreign candidates for chunks 1 and 3 (the real ones are missing).
    const chunks = [all[2]!, ...foreign];
    const [w] = widenPassages([passage(all[2]!)], chunks, v1, 10_000);
    expect(w!.text).toBe(texts[2]);
    // A passage whose version is unknown (or neighbours all gone) is served as it is.
    expect(widenPassages([passage(all[2]!)], all, () => undefined, 10_000)[0]!.text).toBe(texts[2]);
    expect(widenPassages([passage(all[2]!)], [], v1, 10_000)[0]!.text).toBe(texts[2]);
  });

  it('fetches a bounded range around each hit, none without a version', () => {
    expect(windowRadius('x'.repeat(300), 100)).toBe(0);
    expect(windowRadius('x'.repeat(300), 400)).toBeGreaterThanOrEqual(1);
    expect(windowRadius('x', 1_000_000)).toBe(8);
    const ranges = windowRanges([passage(all[0]!), passage(all[3]!)], v1, 40);
    expect(ranges).toEqual([
      { documentId: DOC, version: 1, from: 0, to: windowRadius(texts[0]!, 40) },
      {
        documentId: DOC,
        version: 1,
        from: Math.max(0, 3 - windowRadius(texts[3]!, 40)),
        to: 3 + windowRadius(texts[3]!, 40),
      },
    ]);
    expect(windowRanges([passage(all[0]!)], () => undefined, 40)).toEqual([]);
  });

  it('chat context falls back to the hit alone when its window does not fit the budget', () => {
    const other = (c: ChunkPayload) => ({ ...c, document_id: OTHER });
    const [a] = widenPassages([passage(all[1]!, 0.9)], all, v1, 10_000);
    const [b] = widenPassages([passage(other(all[3]!), 0.8)], all.map(other), v1, 10_000);
    expect(a!.text).toBe(FULL);
    const cost = (p: Passage) => estimateTokens(formatPassage({ ...p, n: 2 })) + 1;
    // Room for the first window and the second hit's own chunk, not for the second window.
    const room = cost(a!) + cost({ ...b!, ...b!.narrow! });
    const chosen = selectPassages([a!, b!], room);
    expect(chosen.map((p) => p.text)).toEqual([FULL, texts[3]]);
    expect(chosen.reduce((n, p) => n + cost(p), 0)).toBeLessThanOrEqual(room);
  });
});
