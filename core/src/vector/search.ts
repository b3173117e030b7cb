import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import { listQuery, mainQuery } from './queries.js';
import type { ChunkPayload, HybridSearchInput, QdrantCall, SearchHit } from './types.js';

type Filter = Schemas['Filter'];
type Condition = Schemas['FieldCondition'];

const anyOf = (key: string, values: string[]): Condition => ({ key, match: { any: values } });

/**
 * Dense and BM25 candidates fused with RRF, filtered by the asking user's principals (and
 * optionally documents and tags), with each hit's cosine score and BM25 rank when it has them.
 */
export async function hybridSearch(
  client: QdrantClient,
  collection: string,
  q: QdrantCall,
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
  // The ACL is a root `must`: Qdrant pushes the root filter down into every prefetch, and `must`
  // survives that merge as an AND (a root `should` is OR-merged with prefetch filters, qdrant#10594).
  const filter: Filter = { must };
  const main = mainQuery(input, filter, prefetchLimit);
  const denseList = (limit: number) => listQuery(input, 'dense', filter, limit, false);
  const sparseList = (limit: number) => listQuery(input, 'sparse', filter, limit, false);
  // The dense and sparse lists again, in the same round trip: the dense one for its cosine
  // scores (a usable score floor, unlike RRF's rank-only scores), the sparse one for BM25 ranks
  // (so the floor keeps a passage BM25 ranks high though its vector is far). Qdrant runs the
  // queries of a batch on one snapshot.
  const [mainRes, denseRes, sparseRes] = await q('search', () =>
    client.queryBatch(collection, {
      searches: [main, denseList(prefetchLimit), sparseList(prefetchLimit)],
    }),
  );
  const denseScores = new Map((denseRes?.points ?? []).map((p) => [String(p.id), p.score]));
  const denseRanks = tiedRanks(denseRes?.points ?? []);
  const sparseRanks = tiedRanks(sparseRes?.points ?? []);
  const hybrid = (input.mode ?? 'hybrid') === 'hybrid';
  return (mainRes?.points ?? []).map((p) => {
    const id = String(p.id);
    const denseScore = denseScores.get(id);
    const sparseRank = sparseRanks.get(id);
    const denseRank = denseRanks.get(id);
    return {
      id,
      // Qdrant's RRF ranks tied hits in whatever order they came (it varies between identical
      // requests), so two equal passages get different fused scores by chance. The same RRF over
      // ranks that tied hits share gives them one score, and the caller's tie-break decides.
      score:
        hybrid && (denseRank !== undefined || sparseRank !== undefined)
          ? rrf(denseRank) + rrf(sparseRank)
          : p.score,
      ...(denseScore !== undefined ? { denseScore } : {}),
      ...(sparseRank !== undefined ? { sparseRank } : {}),
      payload: p.payload as unknown as ChunkPayload,
    };
  });
}

/** Qdrant's RRF constant when the request sets none (lib/segment/src/common/reciprocal_rank_fusion.rs). */
const RRF_K = 2;
const rrf = (rank: number | undefined) => (rank === undefined ? 0 : 1 / (rank + RRF_K));

/** 0-based rank of each point in a score-ordered list, equal scores sharing the first one's rank. */
function tiedRanks(points: { id: string | number; score: number }[]): Map<string, number> {
  const ranks = new Map<string, number>();
  let rank = 0;
  points.forEach((p, i) => {
    if (i > 0 && p.score !== points[i - 1]!.score) rank = i;
    ranks.set(String(p.id), rank);
  });
  return ranks;
}
