/** The hybrid fusion's pieces: ranks in a candidate list (by passage or by document) and the final order. */
import type { SearchMode } from './queries.js';
import type { SearchHit } from './types.js';

type ListPoint = { id: string | number; score: number; payload?: Record<string, unknown> | null };

export interface FusionOptions {
  mode: SearchMode;
  /** Fuse document ranks (the lists carry `document_id`); see HYBRID_RANK_BY. */
  byDocument: boolean;
  /** `rrf`: Σ weight / (rank + k); `convex`: α · scaled cosine + (1 − α) · scaled BM25 (see fuseLists). */
  method: 'rrf' | 'convex';
  k: number;
  denseWeight: number;
  sparseWeight: number;
  /** `convex`: the dense list's share, 0..1. */
  alpha: number;
  /**
   * `convex`: the dense share instead when the dense candidates come from few documents (long
   * documents, each giving many passages; see convexAlpha). Unset: `alpha` always.
   */
  alphaLong?: number;
}

/**
 * Every candidate of the lists the mode uses, with its score in hybrid mode: Σ weight / (rank + k)
 * (0-based ranks, tied scores sharing one), or, `convex`, α · d + (1 − α) · s where each list's
 * score is scaled from its theoretical lower bound (cosine −1, BM25 0) to the list's best (Bruch
 * et al. 2023, "TM2C2"); a passage missing from the dense list gets the list's last cosine (its
 * own is at most that), one missing from the BM25 list 0. The list's own score in the other
 * modes. Also the cosine of each dense candidate and the BM25 rank of each sparse one (for the
 * caller's floor).
 */
export function fuseLists(dense: ListPoint[], sparse: ListPoint[], o: FusionOptions) {
  const denseScores = new Map(dense.map((p) => [String(p.id), p.score]));
  const denseRanks = tiedRanks(dense);
  const sparseRanks = tiedRanks(sparse);
  const rrf = (rank: number | undefined) => (rank === undefined ? 0 : 1 / (rank + o.k));
  const fused = (d: number | undefined, s: number | undefined) =>
    o.denseWeight * rrf(d) + o.sparseWeight * rrf(s);
  let scoreOf = (id: string, listScore: number) =>
    o.mode === 'hybrid' ? fused(denseRanks.get(id), sparseRanks.get(id)) : listScore;
  const convex = o.method === 'convex' && o.mode === 'hybrid';
  const d = convex ? scaled(dense, COSINE_FLOOR) : new Map<string, number>();
  const sp = convex ? scaled(sparse, 0) : new Map<string, number>();
  const dMissing = d.size > 0 ? Math.min(...d.values()) : 0;
  const alpha = convex ? convexAlpha(dense, o) : o.alpha;
  const convexOf = (dv: number | undefined, sv: number | undefined) =>
    alpha * (dv ?? dMissing) + (1 - alpha) * (sv ?? 0);
  if (convex) scoreOf = (id) => convexOf(d.get(id), sp.get(id));
  if (o.byDocument) {
    // Each passage scores as its document: the document's place in each list is that of its
    // best passage there (ranks counted over documents). Within a document, the caller's
    // tie-break (cosine) picks the passage shown.
    const docOf = new Map<string, string>();
    for (const p of [...dense, ...sparse]) docOf.set(String(p.id), String(p.payload?.document_id));
    if (convex) {
      // A document's scaled score in each list is its best passage's.
      const best = (scores: Map<string, number>) => {
        const out = new Map<string, number>();
        for (const [id, sc] of scores) out.set(docOf.get(id)!, Math.max(out.get(docOf.get(id)!) ?? 0, sc));
        return out;
      };
      const dDocs = best(d);
      const sDocs = best(sp);
      scoreOf = (id) => convexOf(dDocs.get(docOf.get(id)!), sDocs.get(docOf.get(id)!));
    } else {
      const dDocs = documentRanks(dense, docOf);
      const sDocs = documentRanks(sparse, docOf);
      scoreOf = (id) => fused(dDocs.get(docOf.get(id)!), sDocs.get(docOf.get(id)!));
    }
  }
  const candidates = new Map<string, number>();
  for (const p of o.mode === 'dense' ? dense : o.mode === 'sparse' ? sparse : [...dense, ...sparse]) {
    const id = String(p.id);
    if (!candidates.has(id)) candidates.set(id, scoreOf(id, p.score));
  }
  return { candidates, denseScores, sparseRanks, alpha };
}

/** How many of the dense list's first candidates convexAlpha counts documents among. */
export const LONG_SAMPLE = 40;
/** At most this share of them distinct documents: the candidates come from long documents. */
export const LONG_SHARE = 0.4;

/**
 * α for this query: `alphaLong` when the first LONG_SAMPLE dense candidates come from at most
 * LONG_SHARE × as many documents, else `alpha`. Measured (README, "Measuring retrieval"): in long
 * papers (COVID-QA, ~40 chunks each) one paper's passages crowd the dense list, and BM25's rare
 * terms, weighted more, tell the right paper and passage apart better (α 0.75: paper@5
 * +0.6, answer@5 +1.3 points; 79 % of its questions crowd it); abstracts (SciFact, ~2 chunks each)
 * seldom do (4 % of its claims), and there a lower α for all would cost chat nDCG@10 0.01.
 * The lists must carry `document_id` (search.ts asks for it when `alphaLong` differs).
 */
export function convexAlpha(
  dense: readonly ListPoint[],
  o: Pick<FusionOptions, 'alpha' | 'alphaLong'>,
): number {
  if (o.alphaLong === undefined || o.alphaLong === o.alpha) return o.alpha;
  const first = dense.slice(0, LONG_SAMPLE);
  const docs = new Set(first.map((p) => p.payload?.document_id));
  if (first.length === 0 || docs.has(undefined)) return o.alpha;
  return docs.size <= LONG_SHARE * first.length ? o.alphaLong : o.alpha;
}

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

/** The lowest cosine there is: the dense list's theoretical lower bound. */
const COSINE_FLOOR = -1;

/**
 * Each point's score scaled to [0, 1] from the list's theoretical lower bound to its best score.
 * A list whose best is the bound itself gives all of them 1.
 */
export function scaled(points: { id: string | number; score: number }[], lower: number): Map<string, number> {
  let hi = -Infinity;
  for (const p of points) hi = Math.max(hi, p.score);
  return new Map(points.map((p) => [String(p.id), hi > lower ? (p.score - lower) / (hi - lower) : 1]));
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
