import { describe, expect, it } from 'vitest';
import type { ChunkRange, StoredChunk } from '@rattgllm/core';
import { WindowCache } from '../src/lib/cache/window-cache.js';

const chunk = (doc: string, index: number, version = 1, principals = ['org']): StoredChunk => ({
  id: `${doc}-${index}-${version}`,
  payload: {
    document_id: doc,
    chunk_index: index,
    text: `${doc} chunk ${index} v${version}`,
    filename: `${doc}.txt`,
    page: 1,
    heading: null,
    principals,
    version,
  },
});
const range = (documentId: string, from: number, to: number, version = 1): ChunkRange => ({
  documentId,
  version,
  from,
  to,
});
const texts = (chunks: StoredChunk[]) => chunks.map((c) => c.payload.text).sort();

function cache(over: { live?: boolean; ttlMs?: number; maxDocuments?: number } = {}) {
  let now = 1_000;
  const live = { on: over.live ?? true };
  const c = new WindowCache({
    ttlMs: over.ttlMs ?? 60_000,
    maxDocuments: over.maxDocuments ?? 100,
    isLive: () => live.on,
    now: () => now,
  });
  return { c, live, advance: (ms: number) => (now += ms) };
}

describe('WindowCache', () => {
  it('serves a range fetched whole, and only what lies in it; a range not fetched whole is missing', () => {
    const { c } = cache();
    const r = range('a', 0, 3);
    expect(c.lookup('col', ['org'], [r])).toEqual({ chunks: [], missing: [r] });
    // Chunk 3 does not exist (the document ends at 2): the range is still known whole.
    c.store('col', c.begin(), [r], [chunk('a', 0), chunk('a', 1), chunk('a', 2)]);
    const hit = c.lookup('col', ['org'], [range('a', 1, 3)]);
    expect(texts(hit.chunks)).toEqual(['a chunk 1 v1', 'a chunk 2 v1']);
    expect(hit.missing).toEqual([]);
    expect(c.lookup('col', ['org'], [range('a', 2, 5)]).missing).toEqual([range('a', 2, 5)]);
    // Another collection (index generation) or version is another entry.
    expect(c.lookup('other', ['org'], [r]).missing).toEqual([r]);
    expect(c.lookup('col', ['org'], [range('a', 0, 3, 2)]).missing).toHaveLength(1);
  });

  it('never serves a chunk to an asker its principals do not name (the Qdrant filter, kept)', () => {
    const { c } = cache();
    const r = range('p', 0, 1);
    c.store('col', c.begin(), [r], [chunk('p', 0, 1, ['user:alice']), chunk('p', 1, 1, ['user:alice'])]);
    expect(texts(c.lookup('col', ['user:alice', 'org'], [r]).chunks)).toHaveLength(2);
    expect(c.lookup('col', ['user:bob', 'org'], [r])).toEqual({ chunks: [], missing: [r] });
  });

  it('keeps nothing of a range that returned nothing', () => {
    const { c } = cache();
    const r = range('gone', 0, 4);
    c.store('col', c.begin(), [r], []);
    expect(c.lookup('col', ['org'], [r]).missing).toEqual([r]);
    expect(c.size).toBe(0);
  });

  it('drops a document at once when it changes, and a fetch under way then is not stored', () => {
    const { c } = cache();
    const a = range('a', 0, 1);
    const b = range('b', 0, 1);
    c.store('col', c.begin(), [a, b], [chunk('a', 0), chunk('b', 0)]);
    c.invalidate('a');
    expect(c.lookup('col', ['org'], [a]).missing).toEqual([a]);
    expect(c.lookup('col', ['org'], [b]).missing).toEqual([]);
    const since = c.begin();
    c.invalidate('b');
    c.store('col', since, [a], [chunk('a', 0)]);
    expect(c.lookup('col', ['org'], [a]).missing).toEqual([a]);
    c.store('col', c.begin(), [a], [chunk('a', 0)]);
    c.clear();
    expect(c.lookup('col', ['org'], [a]).missing).toEqual([a]);
  });

  it('serves and stores nothing while changes cannot be received, or past its time', () => {
    const { c, live, advance } = cache({ ttlMs: 5_000 });
    const r = range('a', 0, 1);
    live.on = false;
    c.store('col', c.begin(), [r], [chunk('a', 0)]);
    live.on = true;
    expect(c.lookup('col', ['org'], [r]).missing).toEqual([r]);
    c.store('col', c.begin(), [r], [chunk('a', 0)]);
    live.on = false;
    expect(c.lookup('col', ['org'], [r]).missing).toEqual([r]);
    live.on = true;
    expect(c.lookup('col', ['org'], [r]).missing).toEqual([]);
    advance(5_001);
    expect(c.lookup('col', ['org'], [r]).missing).toEqual([r]);
    expect(cache({ ttlMs: 0 }).c.enabled).toBe(false);
  });

  it('keeps at most maxDocuments, the least recently stored going first', () => {
    const { c } = cache({ maxDocuments: 2 });
    for (const d of ['a', 'b', 'a', 'c']) c.store('col', c.begin(), [range(d, 0, 0)], [chunk(d, 0)]);
    expect(c.size).toBe(2);
    expect(c.lookup('col', ['org'], [range('b', 0, 0)]).missing).toHaveLength(1);
    expect(c.lookup('col', ['org'], [range('a', 0, 0), range('c', 0, 0)]).missing).toEqual([]);
  });
});
