import { describe, expect, it } from 'vitest';
import type { Passage } from '../src/retrieval/context.js';
import { rankDocuments } from '../src/retrieval/retrieve.js';

const p = (documentId: string, score: number, also: number[] = []): Passage => ({
  documentId,
  filename: `${documentId}.txt`,
  chunkIndex: 0,
  text: documentId,
  score,
  denseScore: null,
  page: null,
  heading: null,
  ...(also.length ? { also: also.map((s, i) => ({ ...p(documentId, s), chunkIndex: i + 1 })) } : {}),
});

describe('rankDocuments (DOCUMENT_SCORE_NEXT_WEIGHT)', () => {
  const once = p('once', 1);
  const often = p('often', 0.8, [0.5, 0.4]);
  const ids = (ds: Passage[]) => ds.map((d) => d.documentId);

  it('weight 0 keeps the order by best passage', () => {
    expect(ids(rankDocuments([once, often], 0))).toEqual(['once', 'often']);
  });

  it('scores best + w·second + w²·third', () => {
    // 0.8 + 0.5·0.5 + 0.25·0.4 = 1.15 > 1
    expect(ids(rankDocuments([once, often], 0.5))).toEqual(['often', 'once']);
    // 0.8 + 0.2·0.5 + 0.04·0.4 = 0.916 < 1
    expect(ids(rankDocuments([once, often], 0.2))).toEqual(['once', 'often']);
  });

  it('keeps the given order on equal scores', () => {
    const a = p('a', 0.5, [0.5]);
    const b = p('b', 0.75);
    expect(ids(rankDocuments([a, b], 0.5))).toEqual(['a', 'b']);
    expect(ids(rankDocuments([b, a], 0.5))).toEqual(['b', 'a']);
  });
});
