/**
 * HYBRID_CONVEX_ALPHA_LONG: the convex fusion's α for a query whose dense candidates come from few
 * (long) documents (fusion.ts convexAlpha), through hybridSearch and as a pure rule.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createVectorIndex, encodeQuery, parseConfig, type SearchHit } from '@rattgllm/core';
import { convexAlpha, fuseLists, LONG_SAMPLE, LONG_SHARE } from '../src/vector/fusion.js';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';
import { convexScores, indexLexical } from './fusion-fixture.js';

const DIM = 64;
const qdrant = await startQdrant();
afterAll(() => qdrant.close());
const collection = uniqueCollectionName('fusion-long');
const index = (env: Record<string, string> = {}) =>
  createVectorIndex(
    parseConfig({
      JWT_SECRET: 'test-secret-0123456789',
      ...qdrant.env,
      QDRANT_COLLECTION: collection,
      EMBED_DIM: String(DIM),
      ...env,
    }),
  );

// One long paper of 30 passages and two short notes: every passage mentions iron, so the dense
// list's first candidates are mostly the paper's (3 documents among 32 passages).
const LONG = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0021';
const DOCS: Record<string, string[]> = {
  [LONG]: Array.from(
    { length: 30 },
    (_, i) => `Iron absorption study, part ${i}: hepcidin and ferritin ${i}.`,
  ),
  '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0022': ['Iron tablets treat anaemia.'],
  '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0023': ['Inflammation lowers iron absorption in the gut.'],
};
const query = 'does inflammation lower iron absorption';
const search = (env: Record<string, string>, extra: object = {}) =>
  index(env).hybridSearch({
    dense: lexicalEmbedding(query, DIM),
    sparse: encodeQuery(query),
    principals: ['org'],
    limit: 40,
    ...extra,
  });

/** The convex score of each hit for a given α, from the dense and the sparse list alone. */
const expectedScores = (dense: SearchHit[], sparse: SearchHit[], alpha: number) => (id: string) =>
  convexScores(dense, sparse).expected(id, alpha);

describe('convex α for long documents', () => {
  it('index the documents', () => indexLexical(index(), DOCS, DIM));

  it('a dense list crowded by one document fuses with HYBRID_CONVEX_ALPHA_LONG', async () => {
    const dense = await search({}, { mode: 'dense' });
    const sparse = await search({}, { mode: 'sparse' });
    expect(new Set(dense.map((h) => h.payload.document_id)).size).toBe(3);
    for (const [env, alpha] of [
      [{}, 0.75], // the defaults: α 0.875, long 0.75
      [{ HYBRID_CONVEX_ALPHA_LONG: '0.5' }, 0.5],
      // Equal to HYBRID_CONVEX_ALPHA: one α for every query.
      [{ HYBRID_CONVEX_ALPHA_LONG: '0.875' }, 0.875],
    ] as const) {
      const expected = expectedScores(dense, sparse, alpha);
      const hits = await search(env);
      expect(hits.length).toBe(32);
      for (const h of hits) expect(h.score).toBeCloseTo(expected(h.id), 12);
    }
    // RRF and the single-list modes do not use α.
    const rrf = await search({ HYBRID_FUSION: 'rrf', HYBRID_CONVEX_ALPHA_LONG: '0' });
    expect(rrf.map((h) => h.score)).toEqual((await search({ HYBRID_FUSION: 'rrf' })).map((h) => h.score));
  });

  it('documents spread over the list keep HYBRID_CONVEX_ALPHA', async () => {
    // Only the two notes: 2 documents among 2 passages.
    const ids = Object.keys(DOCS);
    const only = { documentIds: ids.slice(1) };
    const dense = await search({}, { mode: 'dense', ...only });
    const sparse = await search({}, { mode: 'sparse', ...only });
    const expected = expectedScores(dense, sparse, 0.875);
    const hits = await search({}, only);
    expect(hits.length).toBe(2);
    for (const h of hits) expect(h.score).toBeCloseTo(expected(h.id), 12);
  });

  it('the rule: at most LONG_SHARE distinct documents among the first LONG_SAMPLE dense candidates', () => {
    const list = (docs: number, n = LONG_SAMPLE) =>
      Array.from({ length: n }, (_, i) => ({
        id: i,
        score: 1 - i / 100,
        payload: { document_id: `d${i % docs}` },
      }));
    const o = { alpha: 0.875, alphaLong: 0.75 };
    const edge = LONG_SHARE * LONG_SAMPLE;
    expect(convexAlpha(list(edge), o)).toBe(0.75);
    expect(convexAlpha(list(edge + 1), o)).toBe(0.875);
    expect(convexAlpha(list(1), o)).toBe(0.75);
    // Only the first LONG_SAMPLE count: 100 more passages of other documents change nothing.
    const crowded = [...list(4), ...list(100, 100).map((p) => ({ ...p, id: p.id + 1000, score: 0 }))];
    expect(convexAlpha(crowded, o)).toBe(0.75);
    // A short list is judged on what it has: 4 passages of 4 documents, or of one.
    expect(convexAlpha(list(4, 4), o)).toBe(0.875);
    expect(convexAlpha(list(1, 4), o)).toBe(0.75);
    // Without document ids (a list fetched without them), or no list, or no long α: α.
    expect(
      convexAlpha(
        list(1).map(({ id, score }) => ({ id, score })),
        o,
      ),
    ).toBe(0.875);
    expect(convexAlpha([], o)).toBe(0.875);
    expect(convexAlpha(list(1), { alpha: 0.875 })).toBe(0.875);
    // fuseLists reports the α it used.
    const fused = fuseLists(list(1), [], {
      mode: 'hybrid',
      byDocument: false,
      method: 'convex',
      k: 2,
      denseWeight: 1,
      sparseWeight: 1,
      ...o,
    });
    expect(fused.alpha).toBe(0.75);
  });
});
