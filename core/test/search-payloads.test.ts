/**
 * hybridSearch with `payloads` (the gateway fetching the kept hits with their windows): the same
 * hits, in the same order, as the search that retrieves payloads by id — tied scores included,
 * whose order the tie-break's fields (read with the candidate lists) decide before any payload
 * is fetched. Stand-in Qdrant, or a live one (QDRANT_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVectorIndex,
  encodeDocument,
  encodeQuery,
  parseConfig,
  type PointRef,
  type VectorIndex,
} from '@rattgllm/core';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';

const DIM = 64;
const qdrant = await startQdrant();
afterAll(() => qdrant.close());
let index: VectorIndex;
const doc = (n: number) => `5d1c3a7e-2b4f-4e8a-9c6d-1f2e3d4c${String(n).padStart(4, '0')}`;

beforeAll(async () => {
  index = createVectorIndex(
    parseConfig({
      JWT_SECRET: 'test-secret-0123456789',
      ...qdrant.env,
      QDRANT_COLLECTION: uniqueCollectionName('payloads'),
      EMBED_DIM: String(DIM),
    }),
  );
  await index.ensureCollection();
  // 12 documents of the same three chunks (file names in another order than their ids): every
  // chunk ties with its eleven copies, so the cut at `limit` falls inside a tie.
  for (let n = 0; n < 12; n++)
    await index.upsertChunks(
      doc(n),
      1,
      ['Heat pumps move heat.', 'Heat pumps need a yearly check.', 'The yearly check is cheap.'].map(
        (text, i) => ({ index: i, text, dense: lexicalEmbedding(text, DIM), sparse: encodeDocument(text) }),
      ),
      { filename: `f${String((n * 7) % 12).padStart(2, '0')}.txt`, principals: ['org'] },
    );
});

describe('hybridSearch with payloads fetched by the caller', () => {
  it('returns the hits the retrieve by ids returns, in the same order, and asks only for those', async () => {
    const query = 'heat pumps yearly check';
    for (const limit of [1, 5, 13, 40]) {
      const input = {
        dense: lexicalEmbedding(query, DIM),
        sparse: encodeQuery(query),
        principals: ['org'],
        limit,
      };
      const plain = await index.hybridSearch(input);
      let asked: PointRef[] = [];
      const hooked = await index.hybridSearch({
        ...input,
        payloads: async (refs) => {
          asked = refs;
          const got = await index.pointsInRanges(
            ['org'],
            refs.map((r) => ({
              documentId: r.documentId,
              version: r.version,
              from: r.chunkIndex,
              to: r.chunkIndex,
            })),
          );
          return new Map(got.map((c) => [c.id, c.payload]));
        },
      });
      const key = (h: { id: string; score: number }) => `${h.id}:${h.score}`;
      expect(hooked.map(key), `limit ${limit}`).toEqual(plain.map(key));
      expect(plain.length).toBe(Math.min(limit, 36));
      expect(asked.map((r) => r.id).sort()).toEqual(plain.map((h) => h.id).sort());
    }
  });
});
