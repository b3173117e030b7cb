import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import { listQuery } from './queries.js';
import { byFusedScore, fuseLists } from './fusion.js';
import type { ChunkPayload, HybridSearchInput, QdrantCall, SearchHit, VectorIndexConfig } from './types.js';

type Filter = Schemas['Filter'];
type Condition = Schemas['FieldCondition'];

const anyOf = (key: string, values: string[]): Condition => ({ key, match: { any: values } });

/** The fusion settings (RRF_K, HYBRID_*): RRF or a convex combination of the dense and BM25 lists. */
export interface Fusion {
  method: 'rrf' | 'convex';
  alpha: number;
  k: number;
  denseWeight: number;
  sparseWeight: number;
  rankBy: 'passage' | 'document';
}

export function fusionOf(config: VectorIndexConfig): Fusion {
  return {
    method: config.HYBRID_FUSION ?? 'rrf',
    alpha: config.HYBRID_CONVEX_ALPHA ?? 0.8,
    // Qdrant's own RRF constant when a request sets none.
    k: config.RRF_K ?? 2,
    denseWeight: config.HYBRID_DENSE_WEIGHT ?? 1,
    sparseWeight: config.HYBRID_SPARSE_WEIGHT ?? 1,
    rankBy: config.HYBRID_RANK_BY ?? 'passage',
  };
}

/**
 * Dense and BM25 candidates fused with RRF, filtered by the asking user's principals (and
 * optionally documents and tags), with each hit's cosine score and BM25 rank when it has them.
 */
export async function hybridSearch(
  client: QdrantClient,
  collection: string,
  q: QdrantCall,
  fusion: Fusion,
  input: HybridSearchInput,
): Promise<SearchHit[]> {
  // No principals means "may read nothing", never "no filter".
  if (input.principals.length === 0 || input.limit < 1) return [];
  const prefetchLimit = input.prefetchLimit ?? Math.max(input.limit * 4, 20);
  const must: Condition[] = [anyOf('principals', input.principals)];
  if (input.documentIds) {
    if (input.documentIds.length === 0) return [];
    must.push(anyOf('document_id', input.documentIds));
  }
  if (input.tags?.length) must.push(anyOf('tags', input.tags));
  // The ACL is a `must` of both lists' filters, so neither can return what the asker may not read.
  const filter: Filter = { must };
  const mode = input.mode ?? 'hybrid';
  const depth = Math.max(prefetchLimit, input.limit);
  // Both candidate lists in one round trip (Qdrant runs a batch on one snapshot): the dense one
  // gives cosine scores (a usable score floor, unlike rank-only fused scores), the sparse one
  // BM25 ranks (so the floor keeps a passage BM25 ranks high though its vector is far). The
  // fusion is ours, over those same lists: k and the weights are settings, tied ranks get one
  // score (Qdrant's RRF ranks ties in whatever order they came), and only the hits kept fetch
  // their payload.
  const byDocument = mode === 'hybrid' && fusion.rankBy === 'document' && input.byDocument === true;
  const marker = byDocument ? ['document_id'] : false;
  const [denseRes, sparseRes] = await q('search', () =>
    client.queryBatch(collection, {
      searches: [
        listQuery(input, 'dense', filter, depth, marker),
        listQuery(input, 'sparse', filter, depth, marker),
      ],
    }),
  );
  const { candidates, denseScores, sparseRanks } = fuseLists(
    denseRes?.points ?? [],
    sparseRes?.points ?? [],
    {
      mode,
      byDocument,
      ...fusion,
    },
  );
  // Cut at `limit` on the fused score alone would split ties by chance; the full order needs
  // payloads, so the tied tail at the cut is fetched too and ordered with them.
  const ranked = [...candidates].sort((x, y) => y[1] - x[1]);
  const cutScore = ranked[input.limit - 1]?.[1];
  const kept =
    cutScore === undefined ? ranked : ranked.filter(([, sc], i) => i < input.limit || sc === cutScore);
  if (kept.length === 0) return [];
  const records = await q('search', () =>
    client.retrieve(collection, { ids: kept.map(([id]) => id), with_payload: true, with_vector: false }),
  );
  const payloads = new Map(records.map((r) => [String(r.id), r.payload]));
  const hits: SearchHit[] = [];
  for (const [id, score] of kept) {
    const payload = payloads.get(id);
    // Deleted between the two calls: gone, not an error.
    if (!payload) continue;
    const denseScore = denseScores.get(id);
    const sparseRank = sparseRanks.get(id);
    hits.push({
      id,
      score,
      ...(denseScore !== undefined ? { denseScore } : {}),
      ...(sparseRank !== undefined ? { sparseRank } : {}),
      payload: payload as unknown as ChunkPayload,
    });
  }
  return hits.sort(byFusedScore).slice(0, input.limit);
}
