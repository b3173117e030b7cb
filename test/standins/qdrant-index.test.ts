/**
 * Payload indexes change how a filter finds its points, never which points it finds: every filter
 * here is asked twice, on a keyword-indexed field (`doc`) and on an unindexed copy of it
 * (`doc_copy`), and both answers must be the same — after upserts, a re-upsert that moves a point
 * to another value, payload set and overwrite, and deletes. Through Qdrant's HTTP API, so the same
 * file runs against a real Qdrant (QDRANT_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQdrant, uniqueCollectionName, type QdrantStandin, type Service } from './index.js';

let qdrant: Service<QdrantStandin>;
let name: string;

async function call(method: string, path: string, body?: unknown) {
  const key = qdrant.env.QDRANT_API_KEY;
  const res = await fetch(`${qdrant.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { 'api-key': key } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as { result?: unknown };
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json.result;
}

const point = (id: number, doc: string, chunk: number) => ({
  id,
  vector: { dense: [1, id % 3, chunk, 1] },
  payload: { doc, doc_copy: doc, chunk },
});

/** The ids a filter selects, asked on the indexed field and on its unindexed copy. */
async function both(filter: (field: string) => unknown): Promise<number[]> {
  const ask = async (field: string) => {
    const res = (await call('POST', `/collections/${name}/points/scroll`, {
      filter: filter(field),
      limit: 100,
      with_payload: false,
    })) as { points: { id: number }[] };
    return res.points.map((p) => p.id).sort((a, b) => a - b);
  };
  const [indexed, scanned] = await Promise.all([ask('doc'), ask('doc_copy')]);
  expect(indexed).toEqual(scanned);
  const count = (await call('POST', `/collections/${name}/points/count`, {
    filter: filter('doc'),
    exact: true,
  })) as { count: number };
  expect(count.count).toBe(indexed.length);
  return indexed;
}

const byDoc = (doc: string) => (field: string) => ({ must: [{ key: field, match: { value: doc } }] });
/** The passage windows' shape (core/src/vector/neighbours.ts): `should` of per-document ranges. */
const ranges =
  (...r: [string, number, number][]) =>
  (field: string) => ({
    should: r.map(([doc, from, to]) => ({
      must: [
        { key: field, match: { value: doc } },
        { key: 'chunk', range: { gte: from, lte: to } },
      ],
    })),
  });

beforeAll(async () => {
  qdrant = await startQdrant();
  name = uniqueCollectionName('payload_index');
  await call('PUT', `/collections/${name}`, { vectors: { dense: { size: 4, distance: 'Cosine' } } });
  // Points first, then the index: it must cover the points already stored.
  await call('PUT', `/collections/${name}/points?wait=true`, {
    points: [point(1, 'a', 0), point(2, 'a', 1), point(3, 'a', 2), point(4, 'b', 0), point(5, 'b', 1)],
  });
  await call('PUT', `/collections/${name}/index?wait=true`, { field_name: 'doc', field_schema: 'keyword' });
  await call('PUT', `/collections/${name}/index?wait=true`, { field_name: 'chunk', field_schema: 'integer' });
});
afterAll(async () => {
  if (name) await call('DELETE', `/collections/${name}`);
  await qdrant.close();
});

describe('Qdrant payload indexes (stand-in and real)', () => {
  it('reports the declared indexes in the collection info', async () => {
    const info = (await call('GET', `/collections/${name}`)) as {
      payload_schema: Record<string, { data_type: string }>;
    };
    expect(info.payload_schema.doc?.data_type).toBe('keyword');
    expect(info.payload_schema.chunk?.data_type).toBe('integer');
    expect(info.payload_schema.doc_copy).toBeUndefined();
  });

  it('finds the same points through an index as by a scan, for match, any, ranges and must_not', async () => {
    expect(await both(byDoc('a'))).toEqual([1, 2, 3]);
    expect(await both(byDoc('nothing'))).toEqual([]);
    expect(await both((f) => ({ must: [{ key: f, match: { any: ['a', 'b'] } }] }))).toEqual([1, 2, 3, 4, 5]);
    expect(await both(ranges(['a', 1, 2], ['b', 0, 0]))).toEqual([2, 3, 4]);
    expect(
      await both((f) => ({ must: [{ key: f, match: { value: 'a' } }], must_not: [{ has_id: [2] }] })),
    ).toEqual([1, 3]);
    // A `should` branch on an unindexed condition: every point is a candidate.
    expect(
      await both((f) => ({
        should: [
          { key: f, match: { value: 'b' } },
          { key: 'chunk', range: { gte: 2 } },
        ],
      })),
    ).toEqual([3, 4, 5]);
  });

  it('follows re-upserts, payload changes and deletes', async () => {
    // Point 3 moves from document a to c (a new version of its payload).
    await call('PUT', `/collections/${name}/points?wait=true`, { points: [point(3, 'c', 0)] });
    expect(await both(byDoc('a'))).toEqual([1, 2]);
    expect(await both(byDoc('c'))).toEqual([3]);
    // Set (merge) and overwrite payload by filter.
    await call('POST', `/collections/${name}/points/payload?wait=true`, {
      payload: { doc: 'd', doc_copy: 'd' },
      filter: { must: [{ key: 'doc', match: { value: 'b' } }] },
    });
    expect(await both(byDoc('b'))).toEqual([]);
    expect(await both(ranges(['d', 1, 5]))).toEqual([5]);
    await call('PUT', `/collections/${name}/points/payload?wait=true`, {
      payload: { doc: 'e', doc_copy: 'e', chunk: 9 },
      points: [4],
    });
    expect(await both(byDoc('d'))).toEqual([5]);
    expect(await both(ranges(['e', 9, 9]))).toEqual([4]);
    // Deleted by filter, then by id.
    await call('POST', `/collections/${name}/points/delete?wait=true`, {
      filter: { must: [{ key: 'doc', match: { value: 'a' } }] },
    });
    expect(await both(byDoc('a'))).toEqual([]);
    await call('POST', `/collections/${name}/points/delete?wait=true`, { points: [5] });
    expect(await both(byDoc('d'))).toEqual([]);
    expect(await both((f) => ({ must: [{ key: f, match: { any: ['a', 'c', 'd', 'e'] } }] }))).toEqual([3, 4]);
  });
});
