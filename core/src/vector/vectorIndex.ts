import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import type { Config } from '../config.js';
import type { SparseVector } from '../sparse/bm25.js';
import { DENSE_VECTOR, SPARSE_VECTOR, checkCollectionShape } from './shape.js';
import { CollectionMissingError, QdrantRequestError, translateQdrantError } from './errors.js';
import { chunkPointId } from './ids.js';
import { listQuery, mainQuery } from './queries.js';

export type VectorIndexConfig = Pick<
  Config,
  'QDRANT_URL' | 'QDRANT_API_KEY' | 'QDRANT_COLLECTION' | 'EMBED_DIM'
>;

export { DENSE_VECTOR, SPARSE_VECTOR };
export type { SearchMode } from './queries.js';
import type { SearchMode } from './queries.js';
/** Payload fields with a keyword index: every query filters on them. */
export const INDEXED_KEYWORDS = ['document_id', 'principals'] as const;

export interface ChunkPoint {
  index: number;
  text: string;
  page?: number | null;
  /** Last page, when the chunk spans more than one. */
  pageEnd?: number | null;
  /** [character offset in `text`, page] where each later page begins (multi-page chunks). */
  pageBreaks?: [number, number][];
  heading?: string | null;
  dense: number[];
  sparse: SparseVector;
}

export interface ChunkPayloadBase {
  filename: string;
  /** `org`, `user:<id>`, `group:<name>`: who may read the document. */
  principals: string[];
  tags?: string[];
}

/** What each point carries; field names are the stored payload keys. */
export interface ChunkPayload {
  document_id: string;
  chunk_index: number;
  text: string;
  filename: string;
  page: number | null;
  /** Last page, only on chunks that span more than one (older points lack it). */
  page_end?: number;
  /** [offset, page] pairs where later pages begin in `text` (multi-page chunks; older points lack it). */
  page_breaks?: [number, number][];
  heading: string | null;
  principals: string[];
  version: number;
  tags?: string[];
}

export interface HybridSearchInput {
  dense: number[];
  sparse: SparseVector;
  /** The asking user's principals. Empty → no results (never "no filter"). */
  principals: string[];
  limit: number;
  documentIds?: string[];
  tags?: string[];
  /** Candidates each of dense and sparse contribute to the fusion (default max(limit·4, 20)). */
  prefetchLimit?: number;
  /** `dense` or `sparse`: that list alone (evaluation, diagnosis). Default: both, fused with RRF. */
  mode?: SearchMode;
}

export interface SearchHit {
  id: string;
  /** RRF score: Σ 1/(rank + 2) over the dense and sparse candidate lists (Qdrant's default k). */
  score: number;
  /** Cosine similarity of the passage to the query, when it was among the dense candidates. */
  denseScore?: number;
  /** 0-based rank in the BM25 candidate list, when it was among them (a score floor keeps strong ones). */
  sparseRank?: number;
  payload: ChunkPayload;
}

export interface VectorIndex {
  readonly collection: string;
  /** Create the collection and payload indexes if missing; fail clearly if the existing one does not fit. */
  ensureCollection(): Promise<void>;
  /** Write a document version's chunks (ids derived, `wait: true`), then drop that document's other points. Returns the point ids. */
  upsertChunks(
    documentId: string,
    version: number,
    chunks: ChunkPoint[],
    base: ChunkPayloadBase,
  ): Promise<string[]>;
  deleteDocument(documentId: string): Promise<void>;
  /** Rewrite who may read a document, without re-embedding. */
  setPrincipals(documentId: string, principals: string[]): Promise<void>;
  countDocumentPoints(documentId: string): Promise<number>;
  hybridSearch(input: HybridSearchInput): Promise<SearchHit[]>;
}

type Filter = Schemas['Filter'];
type Condition = Schemas['FieldCondition'];

const keyword = (key: string, value: string): Condition => ({ key, match: { value } });
const anyOf = (key: string, values: string[]): Condition => ({ key, match: { any: values } });

export interface VectorIndexOptions {
  /**
   * Called once each time this process found the collection missing and re-created it: every
   * point is gone, so the documents that had some must be indexed again (the ingestor re-queues
   * them; the consistency check catches what another process re-created).
   */
  onCollectionRecreated?: () => Promise<void> | void;
}

export function createVectorIndex(config: VectorIndexConfig, options: VectorIndexOptions = {}): VectorIndex {
  const url = config.QDRANT_URL.replace(/\/+$/, '');
  const collection = config.QDRANT_COLLECTION;
  const client = new QdrantClient({
    url,
    ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}),
    // The version probe is an extra request at construction that logs a warning when it fails;
    // ensureCollection is our real start-up check.
    checkCompatibility: false,
  });

  const translate = (what: string, err: unknown) => translateQdrantError(err, what, url, collection);

  /** One re-creation at a time in this process, however many calls found the collection gone. */
  let repairing: Promise<void> | undefined;
  function repairCollection(): Promise<void> {
    repairing ??= ensure()
      .then(async (created) => {
        if (created) await options.onCollectionRecreated?.();
      })
      .finally(() => (repairing = undefined));
    return repairing;
  }

  /**
   * Every client call goes through here so callers only ever see VectorIndexError subclasses.
   * A call that finds the collection missing re-creates it (right shape, payload indexes) and
   * runs once more, so a lost collection costs one failed request, not every request until a
   * restart.
   */
  async function q<T>(what: string, fn: () => Promise<T>, repair = true): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = translate(what, err);
      if (!(repair && e instanceof CollectionMissingError)) throw e;
    }
    await repairCollection();
    try {
      return await fn();
    } catch (err) {
      throw translate(what, err);
    }
  }

  async function ensureCollection(): Promise<void> {
    await ensure();
  }

  /** Create the collection if missing and check its shape; true when this call created it. */
  async function ensure(): Promise<boolean> {
    let created = false;
    const { exists } = await q('check the collection', () => client.collectionExists(collection), false);
    if (!exists) {
      try {
        await q(
          'create the collection',
          () =>
            client.createCollection(collection, {
              vectors: { [DENSE_VECTOR]: { size: config.EMBED_DIM, distance: 'Cosine' } },
              // BM25: documents carry term-frequency weights, Qdrant multiplies in the IDF at query time.
              sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'idf' } },
            }),
          false,
        );
        created = true;
      } catch (err) {
        // Another process (gateway vs ingestor) created it first: fine, check its shape below.
        if (!(err instanceof QdrantRequestError && err.upstreamStatus === 409)) throw err;
      }
    }
    const info = await q('read the collection', () => client.getCollection(collection), false);
    checkCollectionShape(info, collection, config.EMBED_DIM);
    for (const field of INDEXED_KEYWORDS) {
      if (info.payload_schema[field]?.data_type === 'keyword') continue;
      await q(
        `index ${field}`,
        () =>
          client.createPayloadIndex(collection, { field_name: field, field_schema: 'keyword', wait: true }),
        false,
      );
    }
    return created;
  }

  async function upsertChunks(
    documentId: string,
    version: number,
    chunks: ChunkPoint[],
    base: ChunkPayloadBase,
  ): Promise<string[]> {
    const ids: string[] = [];
    const points = chunks.map((c) => {
      const id = chunkPointId(documentId, c.index, c.text);
      ids.push(id);
      const payload: ChunkPayload = {
        document_id: documentId,
        chunk_index: c.index,
        text: c.text,
        filename: base.filename,
        page: c.page ?? null,
        ...(c.pageEnd && c.pageEnd !== c.page ? { page_end: c.pageEnd } : {}),
        ...(c.pageBreaks?.length ? { page_breaks: c.pageBreaks } : {}),
        heading: c.heading ?? null,
        principals: base.principals,
        version,
        ...(base.tags ? { tags: base.tags } : {}),
      };
      return { id, vector: { [DENSE_VECTOR]: c.dense, [SPARSE_VECTOR]: c.sparse }, payload: { ...payload } };
    });
    // Bounded request size: a 500-page PDF must not become one 50 MB request body.
    for (let i = 0; i < points.length; i += 128) {
      const batch = points.slice(i, i + 128);
      await q('store points', () => client.upsert(collection, { wait: true, points: batch }));
    }
    // Only after the new points are durable: remove what this version replaces (older versions
    // and same-version leftovers of an earlier, differently chunked attempt), never newer versions.
    const filter: Filter = {
      must: [keyword('document_id', documentId), { key: 'version', range: { lte: version } }],
      ...(ids.length ? { must_not: [{ has_id: ids }] } : {}),
    };
    await q('delete replaced points', () => client.delete(collection, { wait: true, filter }));
    return ids;
  }

  async function deleteDocument(documentId: string): Promise<void> {
    await q('delete points', () =>
      client.delete(collection, { wait: true, filter: { must: [keyword('document_id', documentId)] } }),
    );
  }

  async function setPrincipals(documentId: string, principals: string[]): Promise<void> {
    await q('update access', () =>
      client.setPayload(collection, {
        wait: true,
        payload: { principals },
        filter: { must: [keyword('document_id', documentId)] },
      }),
    );
  }

  async function countDocumentPoints(documentId: string): Promise<number> {
    const res = await q('count points', () =>
      client.count(collection, { exact: true, filter: { must: [keyword('document_id', documentId)] } }),
    );
    return res.count;
  }

  async function hybridSearch(input: HybridSearchInput): Promise<SearchHit[]> {
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

  return {
    collection,
    ensureCollection,
    upsertChunks,
    deleteDocument,
    setPrincipals,
    countDocumentPoints,
    hybridSearch,
  };
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
