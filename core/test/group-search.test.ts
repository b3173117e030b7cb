/**
 * A search grouped by document (`documents`): one long document whose passages fill both
 * candidate lists must not crowd the others out — the lists are read deeper until enough
 * documents are covered, or nothing more is there. Stand-in Qdrant, or a live one (QDRANT_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVectorIndex,
  encodeDocument,
  encodeQuery,
  parseConfig,
  type SearchHit,
  type VectorIndex,
} from '@rattgllm/core';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';

const DIM = 64;
const qdrant = await startQdrant();
afterAll(() => qdrant.close());
let index: VectorIndex;

const LONG = '7b2f8f5e-0f35-4c7e-9a59-0d7b9b7f0001';
const doc = (n: number) => `7b2f8f5e-0f35-4c7e-9a59-0d7b9b7f${String(100 + n).padStart(4, '0')}`;
const SHORT = 6;
const PRIVATE = '7b2f8f5e-0f35-4c7e-9a59-0d7b9b7f0900';
// 70 passages, each naming the query's words more often than any short document does: the long
// document owns both lists' first 20 (and 70) places.
const longChunks = Array.from(
  { length: 70 },
  (_, i) => `Solar panel cleaning, solar panel cleaning: step ${i} of the solar panel cleaning routine.`,
);
const query = 'solar panel cleaning';

beforeAll(async () => {
  index = createVectorIndex(
    parseConfig({
      JWT_SECRET: 'test-secret-0123456789',
      ...qdrant.env,
      QDRANT_COLLECTION: uniqueCollectionName('group'),
      EMBED_DIM: String(DIM),
    }),
  );
  await index.ensureCollection();
  const put = (id: string, texts: string[], principals: string[]) =>
    index.upsertChunks(
      id,
      1,
      texts.map((text, i) => ({
        index: i,
        text,
        dense: lexicalEmbedding(text, DIM),
        sparse: encodeDocument(text),
      })),
      { filename: `${id.slice(-4)}.txt`, principals },
    );
  await put(LONG, longChunks, ['org']);
  for (let n = 0; n < SHORT; n++)
    await put(
      doc(n),
      [`Notes ${n}: the roof has a solar panel; the gutters need cleaning in spring.`],
      ['org'],
    );
  // Readable by someone else only: never counted, never returned.
  await put(
    PRIVATE,
    longChunks.map((t) => `${t} Private.`),
    ['user:someone-else'],
  );
});

const search = (extra: object): Promise<SearchHit[]> =>
  index.hybridSearch({
    dense: lexicalEmbedding(query, DIM),
    sparse: encodeQuery(query),
    principals: ['org'],
    limit: 4,
    ...extra,
  });
const documentsOf = (hits: SearchHit[]) => new Set(hits.map((h) => h.payload.document_id));

describe('hybridSearch grouped by document', () => {
  it('without `documents`: the first lists hold the long document alone (the case being fixed)', async () => {
    const hits = await search({});
    expect(hits).toHaveLength(4);
    expect([...documentsOf(hits)]).toEqual([LONG]);
  });

  it('reads deeper until `documents` documents: the first `limit` passages, then each further one best', async () => {
    const plain = await search({});
    const hits = await search({ documents: 5 });
    expect(documentsOf(hits).size).toBe(5);
    // The first `limit` passages are the long document's (as in the plain search; deeper lists
    // may give some their BM25 score the shallow ones lacked), then one passage per new document.
    expect(plain.every((h) => h.payload.document_id === LONG)).toBe(true);
    expect(hits.slice(0, 4).every((h) => h.payload.document_id === LONG)).toBe(true);
    const rest = hits.slice(4);
    expect(rest).toHaveLength(4);
    expect(new Set(rest.map((h) => h.payload.document_id)).size).toBe(4);
    expect(rest.every((h) => h.payload.document_id !== LONG)).toBe(true);
    expect(documentsOf(hits).has(PRIVATE)).toBe(false);
    // In fused order.
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('stops when the lists are exhausted: every readable document, none twice, nothing unreadable', async () => {
    const hits = await search({ documents: 50 });
    expect(documentsOf(hits)).toEqual(new Set([LONG, ...Array.from({ length: SHORT }, (_, n) => doc(n))]));
    expect(hits).toHaveLength(4 + SHORT);
  });

  it('in one list alone too (dense and sparse modes)', async () => {
    for (const mode of ['dense', 'sparse'] as const) {
      const hits = await search({ documents: 3, mode });
      expect(documentsOf(hits).size, mode).toBe(3);
      expect(documentsOf(hits).has(PRIVATE), mode).toBe(false);
    }
  });
});
