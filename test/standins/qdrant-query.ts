/**
 * The Qdrant stand-in's Query API (qdrant.ts): nested prefetch, RRF fusion, dense cosine and
 * sparse (IDF-modified) dot-product scoring, exact (brute force) where real HNSW approximates.
 * Like Qdrant, tied scores come back in varying order; unlike Qdrant, IDF counts only live points.
 */
import { JsonError } from './server.js';
import { normalise, selectPayload, selectVector, type Collection } from './qdrant-collection.js';
import {
  asList,
  andFilters,
  badRequest,
  compareIds,
  idKey,
  type Json,
  type Sparse,
  type StoredPoint,
} from './qdrant-filter.js';
import { filtered } from './qdrant-index.js';

interface ScoredPoint {
  point: StoredPoint;
  score: number;
}

/** Qdrant's `rrf` constant when the request does not set `k` (lib/segment/src/common/reciprocal_rank_fusion.rs). */
const DEFAULT_RRF_K = 2;

/** Fisher–Yates, for the order of tied hits (see runQuery). */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * IDF as Qdrant computes it for `modifier: "idf"`: ln(1 + (N − n + 0.5) / (n + 0.5)).
 * Where it differs from Qdrant: N and n count only the points alive now. Qdrant counts points
 * deleted or overwritten but not yet removed by the segment optimizer, so right after deletes
 * its sparse scores (and the order of close hits) differ from these; tests must not assert
 * exact sparse scores after deleting or re-upserting points.
 */
function idf(c: Collection, using: string, index: number): number {
  // Kept until the next write of points (qdrant.ts clears it): the same terms are asked often.
  const key = `${using}\n${index}`;
  const known = c.idf.get(key);
  if (known !== undefined) return known;
  let n = 0;
  let total = 0;
  for (const p of c.points.values()) {
    const s = p.sparse.get(using);
    if (!s) continue;
    total++;
    if (s.indices.includes(index)) n++;
  }
  const value = Math.log(1 + (total - n + 0.5) / (n + 0.5));
  c.idf.set(key, value);
  return value;
}

function score(c: Collection, query: unknown, using: string, candidates: StoredPoint[]): ScoredPoint[] {
  if (Array.isArray(query)) {
    const params = c.vectors[using];
    if (!params) throw badRequest(`Not existing vector name error: ${using}`);
    if (query.length !== params.size)
      throw badRequest(`Vector dimension error: expected dim: ${params.size}, got ${query.length}`);
    const q = params.distance === 'Cosine' ? normalise(query as number[]) : (query as number[]);
    return candidates
      .filter((p) => p.dense.has(using))
      .map((p) => {
        const v = p.dense.get(using)!;
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += v[i]! * q[i]!;
        return { point: p, score: dot };
      });
  }
  const s = query as Sparse;
  if (!c.sparseVectors[using]) throw badRequest(`Not existing vector name error: ${using}`);
  const weights = new Map<number, number>();
  const useIdf = c.sparseVectors[using]!.modifier === 'idf';
  s.indices.forEach((i, k) => weights.set(i, s.values[k]! * (useIdf ? idf(c, using, i) : 1)));
  const out: ScoredPoint[] = [];
  for (const p of candidates) {
    const v = p.sparse.get(using);
    if (!v) continue;
    let score = 0;
    let overlap = false;
    v.indices.forEach((i, k) => {
      const w = weights.get(i);
      if (w !== undefined) {
        overlap = true;
        score += w * v.values[k]!;
      }
    });
    // Sparse search only returns points sharing at least one index with the query.
    if (overlap) out.push({ point: p, score });
  }
  return out;
}

/** One (possibly nested) query; `inherited` is the parent's filter pushed down into prefetches. */
function runQuery(c: Collection, q: Json, inherited: Json | undefined): ScoredPoint[] {
  const filter = andFilters(inherited, q.filter as Json | undefined);
  const limit = (q.limit as number | undefined) ?? 10;
  const offset = (q.offset as number | undefined) ?? 0;
  const prefetches = asList(q.prefetch);
  const children = prefetches.map((p) => runQuery(c, p, filter));
  let query = q.query as unknown;
  if (query && typeof query === 'object' && !Array.isArray(query) && 'nearest' in (query as Json))
    query = (query as Json).nearest;
  let results: ScoredPoint[];
  if (
    query &&
    typeof query === 'object' &&
    !Array.isArray(query) &&
    ('fusion' in (query as Json) || 'rrf' in (query as Json))
  ) {
    const fusion = (query as Json).fusion;
    if (fusion !== undefined && fusion !== 'rrf') {
      throw new JsonError(501, `the stand-in implements only rrf fusion, not ${String(fusion)}`);
    }
    if (children.length === 0) throw badRequest('Fusion queries require prefetches');
    const k = ((query as Json).rrf as { k?: number } | undefined)?.k ?? DEFAULT_RRF_K;
    const fused = new Map<string, ScoredPoint>();
    for (const list of children) {
      list.forEach((sp, position) => {
        const add = 1 / (position + k);
        const key = idKey(sp.point.id);
        const prev = fused.get(key);
        fused.set(key, { point: sp.point, score: (prev?.score ?? 0) + add });
      });
    }
    results = [...fused.values()];
  } else if (query !== undefined && query !== null) {
    const using = (q.using as string | undefined) ?? '';
    const candidates =
      prefetches.length > 0
        ? [...new Map(children.flat().map((sp) => [idKey(sp.point.id), sp.point])).values()]
        : filtered(c, filter);
    results = score(c, query, using, candidates);
    const threshold = q.score_threshold as number | undefined;
    if (threshold !== undefined) results = results.filter((r) => r.score >= threshold);
  } else {
    // No query: points in id order, like scroll, score 0.
    results = filtered(c, filter).map((point) => ({ point, score: 0 }));
    results.sort((x, y) => compareIds(x.point.id, y.point.id));
    return results.slice(offset, offset + limit);
  }
  // Real Qdrant does not break ties (equal RRF or equal scores come back in an order that varies
  // between identical requests), so neither does the stand-in: a stable sort over a shuffled
  // list returns tied hits in a random order, and a test that depends on it fails here too.
  results = shuffled(results);
  results.sort((x, y) => y.score - x.score);
  return results.slice(offset, offset + limit);
}

export function query(c: Collection, q: Json): Json[] {
  return runQuery(c, q, undefined).map(({ point, score }) => {
    const payload = selectPayload(point.payload, q.with_payload ?? false);
    const vector = selectVector(point, q.with_vector ?? false);
    return {
      id: point.id,
      version: point.version,
      score,
      ...(payload ? { payload } : {}),
      ...(vector ? { vector } : {}),
    };
  });
}
