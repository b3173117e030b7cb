import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import type { Config } from '../config.js';
import type { SparseVector } from '../sparse/bm25.js';
import { DENSE_VECTOR, SPARSE_VECTOR, checkCollectionShape } from './shape.js';
import { CollectionMissingError, QdrantRequestError, translateQdrantError } from './errors.js';
import { chunkPointId } from './ids.js';
import { listQuery } from './queries.js';
import { byFusedScore, fuseLists } from './fusion.js';

export { byFusedScore };

export type VectorIndexConfig = Pick<
  Config,
  'QDRANT_URL' | 'QDRANT_API_KEY' | 'QDRANT_COLLECTION' | 'EMBED_DIM'
> &
  Partial<Pick<Config, 'RRF_K' | 'HYBRID_DENSE_WEIGHT' | 'HYBRID_SPARSE_WEIGHT' | 'HYBRID_RANK_BY'>>;

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
  /** The caller groups hits by document: with HYBRID_RANK_BY=document, document ranks are fused. */
  byDocument?: boolean;
}

export interface SearchHit {
  id: string;
  /** RRF score: Σ weight/(rank + RRF_K) over the dense and sparse candidate lists (0-based ranks). */
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

  const rrfK = config.RRF_K ?? 2;
  const denseWeight = config.HYBRID_DENSE_WEIGHT ?? 1;
  const sparseWeight = config.HYBRID_SPARSE_WEIGHT ?? 1;
  const rankDocuments = config.HYBRID_RANK_BY === 'document';

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
    const byDocument = mode === 'hybrid' && rankDocuments && input.byDocument === true;
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
        k: rrfK,
        denseWeight,
        sparseWeight,
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
