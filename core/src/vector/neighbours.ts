import type { Schemas } from '@qdrant/js-client-rest';
import { collectionPath, type QdrantHttp } from './http.js';
import type { ChunkPayload, ChunkRange, QdrantCall, StoredChunk } from './types.js';

/** Ranges per request: a bounded filter, and a bounded answer (every range is a few chunks). */
const RANGES_PER_CALL = 64;

/**
 * The chunks of one document version around retrieved hits (a passage window, gateway
 * retrieval/window.ts), in one scroll per 64 ranges, sent together. No point ids to derive (they hold a content
 * hash), so the filter names them: document, version and a chunk_index range, and — defence in
 * depth beside the caller's Postgres check — the asker's principals, so the answer can only
 * ever hold text of documents the asker may read and that the caller named.
 */
export async function pointsInRanges(
  http: QdrantHttp,
  collection: string,
  q: QdrantCall,
  principals: string[],
  ranges: ChunkRange[],
): Promise<StoredChunk[]> {
  if (principals.length === 0) return [];
  const batches: ChunkRange[][] = [];
  for (let i = 0; i < ranges.length; i += RANGES_PER_CALL) {
    const batch = ranges.slice(i, i + RANGES_PER_CALL).filter((r) => r.to >= r.from);
    if (batch.length) batches.push(batch);
  }
  // The batches at once: a /search of 100 documents is one round trip's latency, not several.
  const pages = await Promise.all(
    batches.map((batch) => scrollRanges(http, collection, q, principals, batch)),
  );
  return pages.flat();
}

async function scrollRanges(
  http: QdrantHttp,
  collection: string,
  q: QdrantCall,
  principals: string[],
  batch: ChunkRange[],
): Promise<StoredChunk[]> {
  const out: StoredChunk[] = [];
  const filter: Schemas['Filter'] = {
    must: [{ key: 'principals', match: { any: principals } }],
    should: batch.map((r) => ({
      must: [
        { key: 'document_id', match: { value: r.documentId } },
        { key: 'version', range: { gte: r.version, lte: r.version } },
        { key: 'chunk_index', range: { gte: r.from, lte: r.to } },
      ],
    })),
  };
  // Ranges may overlap; the sum bounds the points that can match (a leftover of an earlier,
  // differently chunked attempt of the same version is the only way to exceed it: the page
  // loop below still ends, and the caller keeps one chunk per index).
  const limit = batch.reduce((n, r) => n + r.to - r.from + 1, 0);
  let offset: Schemas['ExtendedPointId'] | undefined;
  for (let page = 0; page < 4; page++) {
    const res = await q('fetch passage neighbours', () =>
      http.post<Schemas['ScrollResult']>(`${collectionPath(collection)}/points/scroll`, {
        filter,
        limit,
        with_payload: true,
        with_vector: false,
        ...(offset !== undefined ? { offset } : {}),
      }),
    );
    for (const p of res.points)
      if (p.payload) out.push({ id: String(p.id), payload: p.payload as unknown as ChunkPayload });
    const next = res.next_page_offset;
    if (next === null || next === undefined || typeof next === 'object') break;
    offset = next;
  }
  return out;
}
