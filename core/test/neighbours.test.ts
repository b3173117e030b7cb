/**
 * VectorIndex.chunksInRanges (passage windows): exactly the named chunks of the named document
 * version, and only for principals that may read them — against the stand-in or a live Qdrant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVectorIndex, encodeDocument, parseConfig, type VectorIndex } from '@rattgllm/core';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';

const DIM = 32;
const qdrant = await startQdrant();
const collection = uniqueCollectionName('nbr');
const DOC_A = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f00a1';
const DOC_B = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f00b2';
let index: VectorIndex;

const chunks = (doc: string, n: number) =>
  Array.from({ length: n }, (_, i) => {
    const text = `${doc.slice(-2)} chunk ${i}`;
    return { index: i, text, dense: lexicalEmbedding(text, DIM), sparse: encodeDocument(text) };
  });

beforeAll(async () => {
  index = createVectorIndex(
    parseConfig({
      JWT_SECRET: 'test-secret-0123456789',
      ...qdrant.env,
      QDRANT_COLLECTION: collection,
      EMBED_DIM: String(DIM),
    }),
  );
  await index.ensureCollection();
  await index.upsertChunks(DOC_A, 3, chunks(DOC_A, 80), { filename: 'a.txt', principals: ['org'] });
  await index.upsertChunks(DOC_B, 1, chunks(DOC_B, 10), { filename: 'b.txt', principals: ['user:b'] });
});

afterAll(async () => {
  await fetch(`${qdrant.url}/collections/${collection}`, {
    method: 'DELETE',
    headers: qdrant.env.QDRANT_API_KEY ? { 'api-key': qdrant.env.QDRANT_API_KEY } : {},
  });
  await qdrant.close();
});

const key = (p: { document_id: string; chunk_index: number }) =>
  `${p.document_id.slice(-2)}:${p.chunk_index}`;

describe('chunksInRanges', () => {
  it('returns the chunks in the ranges of the named document version, nothing else', async () => {
    const got = await index.chunksInRanges(
      ['org', 'user:b'],
      [
        { documentId: DOC_A, version: 3, from: 2, to: 4 },
        { documentId: DOC_A, version: 3, from: 4, to: 5 },
        { documentId: DOC_B, version: 1, from: 8, to: 12 },
        // Another version of A: none.
        { documentId: DOC_A, version: 2, from: 10, to: 12 },
      ],
    );
    expect(new Set(got.map(key))).toEqual(new Set(['a1:2', 'a1:3', 'a1:4', 'a1:5', 'b2:8', 'b2:9']));
    expect(got.find((p) => key(p) === 'a1:3')?.text).toBe('a1 chunk 3');
  });

  it('never returns a chunk the principals may not read', async () => {
    const got = await index.chunksInRanges(['org'], [{ documentId: DOC_B, version: 1, from: 0, to: 9 }]);
    expect(got).toEqual([]);
    expect(await index.chunksInRanges([], [{ documentId: DOC_A, version: 3, from: 0, to: 9 }])).toEqual([]);
  });

  it('serves more ranges than one request holds', async () => {
    const ranges = Array.from({ length: 80 }, (_, i) => ({ documentId: DOC_A, version: 3, from: i, to: i }));
    const got = await index.chunksInRanges(['org'], ranges);
    expect(got.map((p) => p.chunk_index).sort((x, y) => x - y)).toEqual(ranges.map((r) => r.from));
  });
});
