/**
 * The search's hits fetched with their neighbours in one request (retrieval/window-fetch.ts): however
 * short the guessed reach, the windows built are exactly those the full ranges give, and a guess
 * that reaches far enough costs one fetch.
 */
import { describe, expect, it } from 'vitest';
import type { ChunkRange, PointRef, StoredChunk } from '@rattgllm/core';
import { estimateTokens, type Passage } from '../src/retrieval/context.js';
import { widenPassages, windowRanges } from '../src/retrieval/window.js';
import { ReachGuess, WindowPool, fetchAround, widenFromPool } from '../src/retrieval/window-fetch.js';
import { SURVEY, chunksOf } from './window-fixture.js';

const point = (doc: string, index: number, text: string, heading: string): StoredChunk => ({
  id: `${doc}-${index}`,
  payload: {
    document_id: doc,
    chunk_index: index,
    text,
    filename: `${doc}.txt`,
    page: 1,
    heading,
    principals: ['org'],
    version: 1,
  },
});
// Two sections in one document, and a second document with the same indexes.
const A = chunksOf(SURVEY).map((t, i) => point('a', i, t, i < 4 ? 'One' : 'Two'));
const B = chunksOf(SURVEY).map((t, i) => point('b', i, `B ${t}`, 'One'));
const STORE = [...A, ...B];

function qdrant() {
  const calls: ChunkRange[][] = [];
  const fetch = async (ranges: ChunkRange[]) => {
    calls.push(ranges);
    return STORE.filter(({ payload: c }) =>
      ranges.some(
        (r) =>
          r.documentId === c.document_id &&
          r.version === c.version &&
          r.from <= c.chunk_index &&
          c.chunk_index <= r.to,
      ),
    );
  };
  return { calls, fetch };
}

const passage = ({ payload: c }: StoredChunk, score: number): Passage => ({
  documentId: c.document_id,
  filename: c.filename,
  chunkIndex: c.chunk_index,
  text: c.text,
  score,
  denseScore: null,
  page: c.page,
  pageEnd: null,
  pageBreaks: null,
  heading: c.heading,
});
const versionOf = () => 1;

describe('fetchAround + WindowPool', () => {
  const budgets = [estimateTokens(SURVEY.slice(1, 5).join(' ')), 40, 400];
  const hitSets = [[A[2]!], [A[0]!, A[3]!], [A[5]!, B[1]!, A[1]!], [B[0]!, B[5]!, A[4]!, A[2]!]];

  it('gives the windows of the full ranges whatever the reach guessed', async () => {
    for (const budget of budgets)
      for (const hits of hitSets) {
        const passages = hits.map((h, i) => passage(h, 1 - i / 10));
        const ranges = windowRanges(passages, versionOf, budget);
        const full = await qdrant().fetch(ranges);
        const expected = widenPassages(
          passages,
          full.map((c) => c.payload),
          versionOf,
          budget,
        );
        // The first k windows are built the same when only k are asked for.
        for (let k = 1; k <= passages.length; k++)
          expect(
            widenPassages(
              passages,
              full.map((c) => c.payload),
              versionOf,
              budget,
              undefined,
              k,
            ),
          ).toEqual(expected.slice(0, k));
        for (let reach = 0; reach <= 8; reach++) {
          const { calls, fetch } = qdrant();
          const pool = new WindowPool();
          const refs: PointRef[] = hits.map(({ id, payload: c }) => ({
            id,
            documentId: c.document_id,
            version: 1,
            chunkIndex: c.chunk_index,
          }));
          const payloads = await fetchAround(pool, refs, reach, fetch, fetch);
          expect([...payloads.keys()].sort()).toEqual(hits.map((h) => h.id).sort());
          const farthest = new ReachGuess();
          const { passages: got } = await widenFromPool(
            pool,
            ranges,
            () => true,
            (chunks, probe) => widenPassages(passages, chunks, versionOf, budget, probe),
            fetch,
            farthest,
          );
          const label = `budget ${budget}, hits ${hits.map((h) => h.id)}, reach ${reach}`;
          expect(got, label).toEqual(expected);
          // Reaching as far as growth looked: the one fetch was enough.
          if (reach >= farthest.value) expect(calls, label).toHaveLength(1);
        }
      }
  });

  it('leaves out the documents the caller does not keep, and what lies outside the ranges', async () => {
    const { fetch } = qdrant();
    const pool = new WindowPool();
    const ref = (c: StoredChunk): PointRef => ({
      id: c.id,
      documentId: c.payload.document_id,
      version: 1,
      chunkIndex: c.payload.chunk_index,
    });
    await fetchAround(pool, [ref(A[2]!), ref(B[2]!)], 2, fetch, fetch);
    const got = pool.within(
      [
        { documentId: 'a', version: 1, from: 1, to: 3 },
        { documentId: 'b', version: 1, from: 0, to: 5 },
      ],
      (d) => d === 'a',
    );
    expect(got.map((c) => `${c.document_id}${c.chunk_index}`).sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it('names the parts of ranges not yet held', () => {
    const pool = new WindowPool();
    pool.add(
      [
        { documentId: 'a', version: 1, from: 2, to: 4 },
        { documentId: 'a', version: 1, from: 8, to: 9 },
      ],
      [],
    );
    expect(
      pool.uncovered([
        { documentId: 'a', version: 1, from: 0, to: 10 },
        { documentId: 'a', version: 2, from: 3, to: 3 },
      ]),
    ).toEqual([
      { documentId: 'a', version: 1, from: 0, to: 1 },
      { documentId: 'a', version: 1, from: 5, to: 7 },
      { documentId: 'a', version: 1, from: 10, to: 10 },
      { documentId: 'a', version: 2, from: 3, to: 3 },
    ]);
    expect(pool.uncovered([{ documentId: 'a', version: 1, from: 3, to: 4 }])).toEqual([]);
  });
});
