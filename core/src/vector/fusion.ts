/** The hybrid fusion's pieces: ranks in a candidate list (by passage or by document) and the final order. */
import type { SearchHit } from './vectorIndex.js';

/**
 * The order hits are cut to `limit` in: fused score, then the passage closer in meaning, then a
 * key that survives re-ingestion (file name, chunk index; a document id is random), so the same
 * question always gets the same passages.
 */
export function byFusedScore(a: SearchHit, b: SearchHit): number {
  return (
    b.score - a.score ||
    (b.denseScore ?? -2) - (a.denseScore ?? -2) ||
    a.payload.filename.localeCompare(b.payload.filename) ||
    a.payload.chunk_index - b.payload.chunk_index ||
    a.payload.document_id.localeCompare(b.payload.document_id)
  );
}

/** 0-based rank of each document in a score-ordered passage list: its best passage's place among documents. */
export function documentRanks(
  points: { id: string | number; score: number }[],
  docOf: Map<string, string>,
): Map<string, number> {
  const firsts: { id: string; score: number }[] = [];
  const seen = new Set<string>();
  for (const p of points) {
    const doc = docOf.get(String(p.id))!;
    if (seen.has(doc)) continue;
    seen.add(doc);
    firsts.push({ id: doc, score: p.score });
  }
  return tiedRanks(firsts);
}

/** 0-based rank of each point in a score-ordered list, equal scores sharing the first one's rank. */
export function tiedRanks(points: { id: string | number; score: number }[]): Map<string, number> {
  const ranks = new Map<string, number>();
  let rank = 0;
  points.forEach((p, i) => {
    if (i > 0 && p.score !== points[i - 1]!.score) rank = i;
    ranks.set(String(p.id), rank);
  });
  return ranks;
}
