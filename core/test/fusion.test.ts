/**
 * The hybrid fusion is ours (vectorIndex.ts + fusion.ts): Σ weight / (rank + RRF_K) over the dense
 * and the BM25 list, or a convex combination of their min-max-normalised scores, by passage or —
 * for searches grouped by document — by document.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createVectorIndex, encodeQuery, parseConfig, type SearchHit } from '@rattgllm/core';
import { documentRanks, tiedRanks } from '../src/vector/fusion.js';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';
import { convexScores, indexLexical } from './fusion-fixture.js';

const DIM = 64;
const qdrant = await startQdrant();
afterAll(() => qdrant.close());
const collection = uniqueCollectionName('fusion');
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

const DOCS: Record<string, string[]> = {
  '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0011': [
    'Iron absorption in the gut is controlled by hepcidin.',
    'Hepcidin levels rise with inflammation and fall in anaemia.',
    'The liver makes hepcidin when iron stores are full.',
  ],
  '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0012': ['Iron deficiency anaemia is treated with oral iron tablets.'],
  '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0013': [
    'Inflammation changes how the gut absorbs iron and other minerals.',
  ],
  '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0014': ['Travel expenses are reimbursed within 30 days.'],
};
const query = 'how does inflammation change iron absorption';
const search = (env: Record<string, string>, extra: object = {}) =>
  index(env).hybridSearch({
    dense: lexicalEmbedding(query, DIM),
    sparse: encodeQuery(query),
    principals: ['org'],
    limit: 20,
    ...extra,
  });
const ids = (hits: SearchHit[]) => hits.map((h) => h.id);
// Rank fusion, set explicitly: the default is the convex combination.
const RRF = { HYBRID_FUSION: 'rrf' };

describe('hybrid fusion', () => {
  it('index the documents', () => indexLexical(index(), DOCS, DIM));

  it('a weight of 0 leaves the other list: hybrid = dense alone, = BM25 alone', async () => {
    const dense = await search({}, { mode: 'dense' });
    const sparse = await search({}, { mode: 'sparse' });
    expect(ids(await search({ ...RRF, HYBRID_SPARSE_WEIGHT: '0' }))).toEqual(ids(dense));
    expect(ids(await search({ ...RRF, HYBRID_DENSE_WEIGHT: '0' })).slice(0, sparse.length)).toEqual(
      ids(sparse),
    );
  });

  it('scores are Σ weight / (rank + k) over both lists', async () => {
    const dense = ids(await search({}, { mode: 'dense' }));
    const sparse = ids(await search({}, { mode: 'sparse' }));
    for (const [k, wd, ws] of [
      [2, 1, 1],
      [60, 1.5, 0.5],
    ] as const) {
      const hits = await search({
        ...RRF,
        RRF_K: String(k),
        HYBRID_DENSE_WEIGHT: String(wd),
        HYBRID_SPARSE_WEIGHT: String(ws),
      });
      for (const h of hits) {
        const d = dense.indexOf(h.id);
        const s = sparse.indexOf(h.id);
        const expected = (d < 0 ? 0 : wd / (d + k)) + (s < 0 ? 0 : ws / (s + k));
        expect(h.score).toBeCloseTo(expected, 12);
      }
    }
  });

  it('HYBRID_FUSION=convex: α · scaled cosine + (1 − α) · scaled BM25 (TM2C2)', async () => {
    const dense = await search({}, { mode: 'dense' });
    const sparse = await search({}, { mode: 'sparse' });
    // Cosine scaled from −1 to the best cosine, BM25 from 0 to the best BM25 score.
    const { d, s, dLast, expected } = convexScores(dense, sparse);
    for (const alpha of [0.8, 0.3]) {
      const hits = await search({ HYBRID_FUSION: 'convex', HYBRID_CONVEX_ALPHA: String(alpha) });
      expect(hits.length).toBe(new Set([...d.keys(), ...s.keys()]).size);
      for (const h of hits) expect(h.score).toBeCloseTo(expected(h.id, alpha), 12);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
      // The cosine shown and used by the floor stays the list's own.
      for (const h of hits) expect(h.denseScore).toBe(dense.find((x) => x.id === h.id)?.score);
    }
    // α = 1: the dense order alone; α = 0: BM25's order first.
    expect(ids(await search({ HYBRID_FUSION: 'convex', HYBRID_CONVEX_ALPHA: '1' }))).toEqual(ids(dense));
    const bm25First = ids(await search({ HYBRID_FUSION: 'convex', HYBRID_CONVEX_ALPHA: '0' }));
    expect(bm25First.slice(0, sparse.length)).toEqual(ids(sparse));
    // Grouped by document: a document's scaled score in each list is its best passage's.
    const docOf = new Map([...dense, ...sparse].map((x) => [x.id, x.payload.document_id]));
    const best = (m: Map<string, number>, doc: string) => {
      const of = [...m].filter(([id]) => docOf.get(id) === doc).map(([, v]) => v);
      return of.length ? Math.max(...of) : undefined;
    };
    // The defaults: HYBRID_FUSION=convex, HYBRID_CONVEX_ALPHA=0.875.
    const grouped = await search({ HYBRID_RANK_BY: 'document' }, { byDocument: true });
    for (const h of grouped) {
      const doc = h.payload.document_id;
      expect(h.score).toBeCloseTo(0.875 * (best(d, doc) ?? dLast) + 0.125 * (best(s, doc) ?? 0), 12);
    }
  });

  it('HYBRID_RANK_BY=document fuses document ranks when the caller groups by document', async () => {
    const dense = await search({}, { mode: 'dense' });
    const sparse = await search({}, { mode: 'sparse' });
    const docOf = new Map([...dense, ...sparse].map((h) => [h.id, h.payload.document_id]));
    const dRanks = documentRanks(dense, docOf);
    const sRanks = documentRanks(sparse, docOf);
    const hits = await search({ ...RRF, HYBRID_RANK_BY: 'document' }, { byDocument: true });
    for (const h of hits) {
      const d = dRanks.get(h.payload.document_id);
      const s = sRanks.get(h.payload.document_id);
      expect(h.score).toBeCloseTo(
        (d === undefined ? 0 : 1 / (d + 2)) + (s === undefined ? 0 : 1 / (s + 2)),
        12,
      );
    }
    // Every passage of a document has its document's score.
    const byDoc = new Map<string, Set<number>>();
    for (const h of hits)
      byDoc.set(h.payload.document_id, (byDoc.get(h.payload.document_id) ?? new Set()).add(h.score));
    for (const scores of byDoc.values()) expect(scores.size).toBe(1);
    // Without the caller grouping, passages are fused as before.
    expect(ids(await search({ ...RRF, HYBRID_RANK_BY: 'document' }))).toEqual(ids(await search(RRF)));
  });

  it('ranks: tied scores share a rank; documents rank by their best passage', () => {
    const points = [
      { id: 'a', score: 0.9 },
      { id: 'b', score: 0.9 },
      { id: 'c', score: 0.5 },
      { id: 'd', score: 0.4 },
    ];
    expect([...tiedRanks(points)]).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 2],
      ['d', 3],
    ]);
    const docOf = new Map([
      ['a', 'X'],
      ['b', 'X'],
      ['c', 'Y'],
      ['d', 'X'],
    ]);
    expect([...documentRanks(points, docOf)]).toEqual([
      ['X', 0],
      ['Y', 1],
    ]);
  });
});
