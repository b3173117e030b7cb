import type { Config } from '../config.js';
import type { SparseVector } from '../sparse/bm25.js';
import type { SearchMode } from './queries.js';

/** The shapes of the vector index (vectorIndex.ts): points, payloads, searches, and its interface. */

export type VectorIndexConfig = Pick<
  Config,
  'QDRANT_URL' | 'QDRANT_API_KEY' | 'QDRANT_COLLECTION' | 'EMBED_DIM'
> &
  Partial<
    Pick<
      Config,
      | 'RRF_K'
      | 'HYBRID_FUSION'
      | 'HYBRID_CONVEX_ALPHA'
      | 'HYBRID_CONVEX_ALPHA_LONG'
      | 'HYBRID_DENSE_WEIGHT'
      | 'HYBRID_SPARSE_WEIGHT'
      | 'HYBRID_RANK_BY'
    >
  >;

/** Payload fields with a keyword index: every query filters on them. */
export const INDEXED_KEYWORDS = ['document_id', 'principals'] as const;

/**
 * Payload fields with an integer index: the ranges passage windows fetch (chunk_index, version;
 * vector/neighbours.ts) and a new version's clean-up (version) are read from the index, not from
 * each point's payload (on disk in Qdrant).
 */
export const INDEXED_INTEGERS = ['chunk_index', 'version'] as const;

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

/** One document version's points, as a write of several documents carries them. */
export interface DocumentPoints {
  documentId: string;
  /** The version the points are written under. */
  version: number;
  chunks: ChunkPoint[];
  base: ChunkPayloadBase;
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
  /** `dense` or `sparse`: that list alone (evaluation, diagnosis). Default: both, fused (HYBRID_FUSION). */
  mode?: SearchMode;
  /** The caller groups hits by document: with HYBRID_RANK_BY=document, document ranks are fused. */
  byDocument?: boolean;
  /**
   * The caller groups hits by document and shows this many: after the first `limit` passages
   * come the best passages of further documents until this many documents are covered, the
   * candidate lists read deeper (bounded) when they hold fewer. Unset: `limit` passages.
   */
  documents?: number;
  /**
   * Fetches the kept hits' payloads instead of retrieving them by id: given each kept
   * candidate's id, document, version and chunk index (read with the candidate lists), resolves
   * payloads by point id (a candidate missing from the answer is taken as deleted). The gateway
   * fetches them together with their passage windows, in one request or from its window cache.
   */
  payloads?: (refs: PointRef[]) => Promise<ReadonlyMap<string, ChunkPayload>>;
}

/** A point as the search's candidate lists name it: its id and where its chunk lies. */
export interface PointRef {
  id: string;
  documentId: string;
  version: number;
  chunkIndex: number;
}

/** A chunk with its point id (a window's neighbours, or a hit's own payload). */
export interface StoredChunk {
  id: string;
  payload: ChunkPayload;
}

/** Chunks `from`..`to` (chunk_index, inclusive) of one version of one document. */
export interface ChunkRange {
  documentId: string;
  version: number;
  from: number;
  to: number;
}

export interface SearchHit {
  id: string;
  /** Fused score (HYBRID_FUSION): Σ weight/(rank + RRF_K), or α · scaled cosine + (1 − α) · scaled BM25. */
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
  /**
   * upsertChunks for several documents at once: their points in shared requests (`wait: true`),
   * then each one's replaced points dropped in one request. Resolves (ids per document, in order)
   * only when all are durable; on an error none of them may be taken as written.
   */
  upsertDocuments(writes: DocumentPoints[]): Promise<string[][]>;
  deleteDocument(documentId: string): Promise<void>;
  /** Rewrite who may read a document, without re-embedding. */
  setPrincipals(documentId: string, principals: string[]): Promise<void>;
  countDocumentPoints(documentId: string): Promise<number>;
  hybridSearch(input: HybridSearchInput): Promise<SearchHit[]>;
  /**
   * The payloads of the chunks in these ranges that the principals may read (passage windows:
   * the text around a hit). Chunks that are gone are simply missing; order is not guaranteed.
   */
  chunksInRanges(principals: string[], ranges: ChunkRange[]): Promise<ChunkPayload[]>;
  /** chunksInRanges with each chunk's point id. */
  pointsInRanges(principals: string[], ranges: ChunkRange[]): Promise<StoredChunk[]>;
}

/**
 * A Qdrant client call as the index makes it (vectorIndex.ts): errors translated to
 * VectorIndexError subclasses and, unless `repair` is false, a missing collection re-created
 * and the call run once more.
 */
export type QdrantCall = <T>(what: string, fn: () => Promise<T>, repair?: boolean) => Promise<T>;
