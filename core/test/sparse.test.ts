import { describe, expect, it } from 'vitest';
import {
  BM25_AVG_LEN,
  BM25_B,
  BM25_K,
  bm25TokenId,
  bm25Tokens,
  encodeDocument,
  encodeQuery,
} from '@rattgllm/core';

describe('BM25 sparse encoder (FastEmbed Qdrant/bm25 compatible)', () => {
  it('hashes tokens like abs(mmh3.hash(token))', () => {
    // Reference values of Python's mmh3.hash (MurmurHash3 x86-32, seed 0, signed).
    expect(bm25TokenId('hello')).toBe(613153351);
    expect(bm25TokenId('foo')).toBe(156908512); // mmh3.hash('foo') == -156908512
  });

  it('lower-cases, splits on non-word characters, drops stopwords and stems (Porter2)', () => {
    expect(bm25Tokens('The Running dogs, and THE cats!')).toEqual(['run', 'dog', 'cat']);
    expect(bm25Tokens('e-mail: generously_given')).toEqual(['e', 'mail', 'generously_given']);
    expect(bm25Tokens('skis dying')).toEqual(['ski', 'die']);
    expect(bm25Tokens('x'.repeat(41) + ' ok')).toEqual(['ok']);
  });

  it('weights documents with BM25 term frequency and queries with 1 per distinct stem', () => {
    const doc = encodeDocument('invoice invoices payment');
    const len = 3;
    const norm = BM25_K * (1 - BM25_B + (BM25_B * len) / BM25_AVG_LEN);
    const i = doc.indices.indexOf(bm25TokenId('invoic'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(doc.values[i]).toBeCloseTo((2 * (BM25_K + 1)) / (2 + norm), 10);
    expect(doc.indices).toHaveLength(2);
    const q = encodeQuery('Invoice invoices?');
    expect(q).toEqual({ indices: [bm25TokenId('invoic')], values: [1] });
  });

  it('gives an empty vector for text without content words', () => {
    expect(encodeDocument('the and of ...')).toEqual({ indices: [], values: [] });
    expect(encodeQuery('')).toEqual({ indices: [], values: [] });
  });
});
