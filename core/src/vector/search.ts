import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import { listQuery } from './queries.js';
import { collectionPath, type QdrantHttp } from './http.js';
import { byFusedScore, fuseLists } from './fusion.js';
import type {
  ChunkPayload,
  HybridSearchInput,
  PointRef,
  QdrantCall,
  SearchHit,
  VectorIndexConfig,
} from './types.js';

type Filter = Schemas['Filter'];
type Condition = Schemas['FieldCondition'];

const anyOf = (key: string, values: string[]): Condition => ({ key, match: { any: values } });

/** The fusion settings (RRF_K, HYBRID_*): RRF or a convex combination of the dense and BM25 lists. */
export interface Fusion {
  method: 'rrf' | 'convex';
  alpha: number;
  alphaLong: number;
  k: number;
  denseWeight: number;
  sparseWeight: number;
  rankBy: 'passage' | 'document';
}

export function fusionOf(config: VectorIndexConfig): Fusion {
  return {
    method: config.HYBRID_FUSION ?? 'convex',
    alpha: config.HYBRID_CONVEX_ALPHA ?? 0.875,
    alphaLong: config.HYBRID_CONVEX_ALPHA_LONG ?? 0.75,
    // Qdrant's own RRF constant when a request sets none.
    k: config.RRF_K ?? 2,
    denseWeight: config.HYBRID_DENSE_WEIGHT ?? 1,
    sparseWeight: config.HYBRID_SPARSE_WEIGHT ?? 1,
    rankBy: config.HYBRID_RANK_BY ?? 'passage',
  };
}

/**
 * Dense and BM25 candidates fused (HYBRID_FUSION: convex or RRF), filtered by the asking user's
 * principals (and optionally documents and tags), with each hit's cosine score and BM25 rank
 * when it has them.
 */
export async function hybridSearch(
  client: QdrantClient,
  http: QdrantHttp,
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
  const documents = input.documents ?? 0;
  // Both candidate lists in one round trip (Qdrant runs a batch on one snapshot): the dense one
  // gives cosine scores (a usable score floor, unlike rank-only fused scores), the sparse one
  // BM25 ranks (so the floor keeps a passage BM25 ranks high though its vector is far). The
  // fusion is ours, over those same lists: k and the weights are settings, tied ranks get one
  // score (Qdrant's RRF ranks ties in whatever order they came), and only the hits kept fetch
  // their payload.
  const byDocument = mode === 'hybrid' && fusion.rankBy === 'document' && input.byDocument === true;
  // Counting documents needs each candidate's document id before the payloads are fetched (also
  // for the convex α of long documents, fusion.ts convexAlpha); a caller that fetches payloads
  // itself (with their windows) needs where each chunk lies.
  const longAlpha = mode === 'hybrid' && fusion.method === 'convex' && fusion.alphaLong !== fusion.alpha;
  const marker = input.payloads
    ? REF_FIELDS
    : byDocument || documents > 0 || longAlpha
      ? ['document_id']
      : false;
  let depth = Math.max(prefetchLimit, input.limit);
  let fused: ReturnType<typeof fuseLists>;
  let docOf: Map<string, string>;
  let refOf = new Map<string, Ref>();
  for (;;) {
    const [denseRes, sparseRes] = await q('search', () =>
      http.post<Schemas['QueryResponse'][]>(`${collectionPath(collection)}/points/query/batch`, {
        searches: [
          listQuery(input, 'dense', filter, depth, marker),
          listQuery(input, 'sparse', filter, depth, marker),
        ],
      }),
    );
    const dense = denseRes?.points ?? [];
    const sparse = sparseRes?.points ?? [];
    fused = fuseLists(dense, sparse, { mode, byDocument, ...fusion });
    docOf = new Map([...dense, ...sparse].map((p) => [String(p.id), String(p.payload?.document_id)]));
    if (input.payloads) refOf = pointRefs([...dense, ...sparse]);
    // A grouped search wants `documents` documents; one long document can fill both lists with
    // its passages. Deeper lists, while a list was cut at the depth (more lies beyond) and
    // within MAX_GROUP_DEPTH (a bounded cost).
    const full = dense.length >= depth || sparse.length >= depth;
    if (documents === 0 || !full || depth >= MAX_GROUP_DEPTH) break;
    if (new Set([...fused.candidates.keys()].map((id) => docOf.get(id))).size >= documents) break;
    depth = Math.min(depth * 4, MAX_GROUP_DEPTH);
  }
  const { candidates, denseScores, sparseRanks } = fused;
  // Cut at `limit` on the fused score alone would split ties by chance; the full order needs
  // payloads, so the tied tail at the cut is fetched too and ordered with them.
  const ranked = [...candidates].sort((x, y) => y[1] - x[1]);
  const cutScore = ranked[input.limit - 1]?.[1];
  const kept =
    cutScore === undefined ? ranked : ranked.filter(([, sc], i) => i < input.limit || sc === cutScore);
  const extra = documents > 0 ? furtherDocuments(ranked, kept, docOf, documents) : [];
  if (kept.length === 0) return [];
  // Read with the lists, the tie-break's fields order the tied tail before any payload is
  // fetched: the caller fetching payloads with their windows fetches the first `limit` alone.
  const cut = input.payloads && documents === 0 ? firstInOrder(kept, refOf, denseScores, input.limit) : kept;
  const wanted = [...cut, ...extra].map(([id]) => id);
  const payloads: ReadonlyMap<string, unknown> = input.payloads
    ? await input.payloads(wanted.flatMap((id) => refOf.get(id) ?? []))
    : new Map(
        (
          await q('search', () =>
            client.retrieve(collection, { ids: wanted, with_payload: true, with_vector: false }),
          )
        ).map((r) => [String(r.id), r.payload]),
      );
  const hits: SearchHit[] = [];
  for (const [id, score] of [...cut, ...extra]) {
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
  hits.sort(byFusedScore);
  if (documents === 0) return hits.slice(0, input.limit);
  // The first `limit` passages, then each further document's best one until `documents`.
  const seen = new Set<string>();
  return hits.filter((h, i) => {
    const doc = h.payload.document_id;
    const take = i < input.limit || (!seen.has(doc) && seen.size < documents);
    if (take) seen.add(doc);
    return take;
  });
}

/** The payload fields a candidate's PointRef (and byFusedScore's tie-break) is read from. */
const REF_FIELDS = ['document_id', 'chunk_index', 'version', 'filename'];

type Ref = PointRef & { filename: string };

function pointRefs(
  points: readonly { id: string | number; payload?: Record<string, unknown> | null }[],
): Map<string, Ref> {
  const refs = new Map<string, Ref>();
  for (const p of points) {
    const { document_id, chunk_index, version, filename } = p.payload ?? {};
    // A point written without them is not ours to window: its payload stays unfetched (gone).
    if (
      typeof document_id !== 'string' ||
      typeof chunk_index !== 'number' ||
      typeof version !== 'number' ||
      typeof filename !== 'string'
    )
      continue;
    const id = String(p.id);
    refs.set(id, { id, documentId: document_id, version, chunkIndex: chunk_index, filename });
  }
  return refs;
}

/**
 * The first `limit` of `kept` in byFusedScore's order, from the fields the lists returned (the
 * same comparison the hits get once their payloads are in).
 */
function firstInOrder(
  kept: [string, number][],
  refOf: ReadonlyMap<string, Ref>,
  denseScores: ReadonlyMap<string, number>,
  limit: number,
): [string, number][] {
  if (kept.length <= limit) return kept;
  const order: SearchHit[] = [];
  for (const [id, score] of kept) {
    const r = refOf.get(id);
    if (!r) continue;
    const denseScore = denseScores.get(id);
    const payload = { document_id: r.documentId, chunk_index: r.chunkIndex, filename: r.filename };
    order.push({
      id,
      score,
      ...(denseScore !== undefined ? { denseScore } : {}),
      payload: payload as ChunkPayload,
    });
  }
  return order
    .sort(byFusedScore)
    .slice(0, limit)
    .map((h) => [h.id, h.score]);
}

/** How deep a grouped search may read each candidate list to find enough documents. */
const MAX_GROUP_DEPTH = 4096;

/**
 * The candidates beyond the first `limit` passages (`kept`) that a grouped search fetches: the
 * best passages of the next documents not yet among them, until `documents` documents, with
 * every passage tied with a fetched one (the final order breaks ties on payload fields).
 */
function furtherDocuments(
  ranked: readonly [string, number][],
  kept: readonly [string, number][],
  docOf: ReadonlyMap<string, string>,
  documents: number,
): [string, number][] {
  const seen = new Set(kept.map(([id]) => docOf.get(id)));
  const taken = new Set(kept.map(([id]) => id));
  const extra: [string, number][] = [];
  let lastScore: number | undefined;
  for (const [id, score] of ranked) {
    if (taken.has(id)) continue;
    const doc = docOf.get(id);
    if (seen.size >= documents && score !== lastScore) break;
    // Ties: any passage scoring as the last one taken may be ordered before it.
    if (seen.has(doc) && score !== lastScore) continue;
    seen.add(doc);
    extra.push([id, score]);
    lastScore = score;
  }
  return extra;
}
