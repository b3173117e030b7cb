import type { FastifyBaseLogger } from 'fastify';
import {
  byFusedScore,
  encodeQuery,
  type ChunkRange,
  type Embedder,
  type PointRef,
  type Principal,
  type SearchHit,
  type SearchMode,
  type VectorIndex,
} from '@rattgllm/core';
import type { Passage } from './context.js';
import { select } from './select.js';
import { widenPassages, windowRanges } from './window.js';
import {
  ReachGuess,
  WindowPool,
  cachedPoints,
  fetchAround,
  widenFromPool,
  withAlso,
} from './window-fetch.js';
import type { WindowCache } from '../lib/cache/window-cache.js';

/**
 * Who retrieval reads for. `principal` drives the Postgres re-check (`whereReadable`),
 * `principals` the Qdrant filter; both describe the same person. Empty `principals` = nothing.
 */
export interface RetrievalIdentity {
  principal: Principal;
  principals: string[];
  /** For logs: `user:<name>`, `openwebui:<email>`, `openwebui:unknown`. */
  label: string;
}

/**
 * The reader behind an Open WebUI user rattgllm does not know: reads `org` at most, gets no links.
 * Owns no document: the SQL side of "reads `org` documents only".
 */
export const NOBODY = '00000000-0000-0000-0000-000000000000';

export interface RetrieveInput {
  identity: RetrievalIdentity;
  query: string;
  limit: number;
  documentIds?: string[];
  tags?: string[];
  /** Floor on the dense (cosine) score; hits without one are dropped when set above 0. */
  minScore?: number;
  /** `dense` / `sparse`: one list alone, for evaluation (npm run eval). Default hybrid. */
  mode?: SearchMode;
  /**
   * `document`: `limit` documents, each its best passage with its other matching passages in
   * `also` (what /search shows). `passage` (default): `limit` passages (chat context).
   */
  group?: 'document' | 'passage';
  /**
   * Search this index generation (its collection, queried with its own model) instead of the
   * one the production name serves: the admin comparison of an old and a new model.
   */
  collection?: string;
  signal?: AbortSignal;
}

export { SPARSE_FLOOR_RANK, rankDocuments } from './select.js';

export interface RetrieveResult {
  passages: Passage[];
  /**
   * Time spent embedding the query, searching Qdrant, re-checking in Postgres, and widening the
   * passages to their windows after the check (windowMs, 0 without windows; of it windowFetchMs
   * waiting for Qdrant's neighbours: the part of their fetch the check did not already cover) (ms).
   */
  timings: { embedMs: number; searchMs: number; checkMs: number; windowMs: number; windowFetchMs: number };
  /** Hits Qdrant returned that Postgres refused (stale payload, deleted, access changed). */
  dropped: number;
}

export type Retrieve = (input: RetrieveInput) => Promise<RetrieveResult>;

/** An index generation's query embedder and collection: one model's vectors on both sides. */
export interface SearchTarget {
  embedder: Pick<Embedder, 'embedQuery'>;
  vectorIndex: Pick<VectorIndex, 'collection' | 'hybridSearch' | 'pointsInRanges'>;
}

export interface RetrieveDeps {
  /** Runs `fn` on the generation to search: `collection`, or the one search uses now. */
  withGeneration<T>(collection: string | undefined, fn: (target: SearchTarget) => Promise<T>): Promise<T>;
  /** Of these document ids, the ones the principal may read now (the documents repository). */
  readableAmong(
    principal: Principal,
    ids: readonly string[],
    tags?: readonly string[],
  ): Promise<{ id: string; filename: string }[]>;
  /**
   * The same answer from memory in this tick when the caches hold it (lib/cache), else
   * undefined: an `await` on a settled promise still waits behind the search response's teardown.
   */
  readableCached?(
    principal: Principal,
    ids: readonly string[],
    tags?: readonly string[],
  ): { id: string; filename: string }[] | undefined;
  /**
   * PASSAGE_WINDOW_TOKENS: each passage widened to the text around its chunk up to this many
   * (estimated) tokens (window.ts); 0 or unset: the chunk alone.
   */
  windowTokens?: number;
  /** The chunks windows were built from, by document version (lib/cache/window-cache.ts); none: always Qdrant. */
  windowCache?: WindowCache;
  /**
   * DOCUMENT_SCORE_NEXT_WEIGHT: grouped by document, a document scores its best passage plus
   * w × its second, w² × its third, … (rankDocuments); 0 or unset: its best passage alone.
   */
  documentNextWeight?: number;
  log: FastifyBaseLogger;
}

/** `retrieve`, the one path every search, chat context and citation takes. */
export function createRetrieve({
  withGeneration,
  readableAmong,
  readableCached,
  windowTokens = 0,
  windowCache,
  documentNextWeight = 0,
  log,
}: RetrieveDeps): Retrieve {
  const reach = new ReachGuess();
  return async function retrieve(input: RetrieveInput): Promise<RetrieveResult> {
    const timings = { embedMs: 0, searchMs: 0, checkMs: 0, windowMs: 0, windowFetchMs: 0 };
    const { identity } = input;
    if (identity.principals.length === 0 || input.limit < 1) return { passages: [], timings, dropped: 0 };
    // Over-fetch: the re-check and the score floor may drop some hits, and grouping by document
    // needs several passages per document (and, beyond them, `limit` documents: `documents`).
    const byDocument = input.group === 'document';
    type Rows = { id: string; filename: string }[];
    const check = (ids: readonly string[]): Rows | Promise<Rows> =>
      readableCached?.(identity.principal, ids, input.tags) ??
      readableAmong(identity.principal, ids, input.tags);
    // With windows, the kept hits' payloads come with their neighbours (window-fetch.ts), and
    // Postgres's check of their documents runs meanwhile: both start once the candidate lists
    // named them. Nothing fetched is used before Postgres has answered, and only chunks of
    // documents it confirmed (below).
    const pool = new WindowPool();
    type EarlyCheck = { ids: Set<string>; rows: Rows | Promise<Rows> };
    const early: { check?: EarlyCheck } = {};
    // The query is embedded with the model of the collection it searches: until a switch the old
    // one, after it the new one (never a vector of one model against the other's points).
    const search = (documents: number) =>
      withGeneration(input.collection, async ({ embedder, vectorIndex }) => {
        let t = performance.now();
        const dense = await embedder.embedQuery(input.query, input.signal ? { signal: input.signal } : {});
        timings.embedMs += performance.now() - t;
        input.signal?.throwIfAborted();
        t = performance.now();
        const payloads =
          windowTokens > 0
            ? (refs: PointRef[]) => {
                const ids = [...new Set(refs.map((r) => r.documentId))];
                const rows = check(ids);
                // Awaited only if the fetch succeeds; a failed fetch must not leave a rejection unhandled.
                if (rows instanceof Promise) rows.catch(() => {});
                early.check = { ids: new Set(ids), rows };
                return fetchAround(
                  pool,
                  refs,
                  reach.value,
                  (ranges) => cachedPoints(windowCache, vectorIndex, identity.principals, ranges),
                  (ranges) => vectorIndex.pointsInRanges(identity.principals, ranges),
                );
              }
            : undefined;
        const found = await vectorIndex.hybridSearch({
          dense,
          sparse: encodeQuery(input.query),
          principals: identity.principals,
          limit: byDocument ? Math.min(input.limit * 4, 400) : Math.min(input.limit * 2, 100),
          ...(input.documentIds ? { documentIds: input.documentIds } : {}),
          ...(input.tags?.length ? { tags: input.tags } : {}),
          ...(input.mode ? { mode: input.mode } : {}),
          ...(byDocument ? { byDocument, documents } : {}),
          ...(payloads ? { payloads } : {}),
        });
        timings.searchMs += performance.now() - t;
        return found;
      });
    const fetchWindows = (ranges: ChunkRange[]) =>
      withGeneration(input.collection, ({ vectorIndex }) =>
        cachedPoints(windowCache, vectorIndex, identity.principals, ranges),
      );
    // Passages: a hit folded into a better hit's window leaves room for the next, so up to twice
    // `limit` are widened and the first `limit` windows kept.
    const selectLimit = !byDocument && windowTokens > 0 ? input.limit * 2 : input.limit;
    const shape = { limit: selectLimit, byDocument, floor: input.minScore ?? 0, documentNextWeight };
    let hits: SearchHit[] = [];
    let readable = new Map<string, { id: string; filename: string }>();
    for (let documents = input.limit, attempt = 0; ; attempt++) {
      delete early.check;
      hits = await search(documents);
      input.signal?.throwIfAborted();
      // RRF gives equal scores often (first in one list, second in the other). Ties go to the
      // passage closer in meaning, then to a key that survives re-ingestion (file name, chunk
      // index; a document id is random), so the same question always gets the same passages.
      hits.sort(byFusedScore);

      // Defence in depth: the Qdrant payload may be stale (access changed, document deleted,
      // setPrincipals not yet run). Postgres decides; a hit it does not confirm is never used.
      const t = performance.now();
      const ids = [...new Set(hits.map((h) => h.payload.document_id))];
      // (Set by the search's payload fetch: the compiler cannot see that callback run.)
      const started = early.check as EarlyCheck | undefined;
      const got = started && ids.every((id) => started.ids.has(id)) ? started.rows : check(ids);
      const rows = Array.isArray(got) ? got : await got;
      timings.checkMs += performance.now() - t;
      readable = new Map(rows.map((r) => [r.id, r]));
      // Grouped, documents Postgres refused leave room for as many more: searched once more
      // (twice at most) unless the index had no more documents to give.
      const refused = ids.filter((id) => !readable.has(id)).length;
      if (!byDocument || refused === 0 || readable.size >= input.limit || ids.length < documents) break;
      if (attempt >= 2) break;
      documents = input.limit + refused;
    }
    const selected = select(hits, (id) => readable.get(id), shape);
    let { passages } = selected;
    const { dropped, versionOf } = selected;
    if (windowTokens > 0 && passages.length > 0) {
      const tw = performance.now();
      const ranges = windowRanges(withAlso(passages), versionOf, windowTokens);
      // Defence in depth beside the Qdrant filter: chunks of documents Postgres confirmed, only.
      const widened = await widenFromPool(
        pool,
        ranges,
        (id) => readable.has(id),
        (chunks, probe) =>
          byDocument
            ? passages.map((p) => {
                const [best, ...also] = widenPassages(
                  [p, ...(p.also ?? [])],
                  chunks,
                  versionOf,
                  windowTokens,
                  probe,
                );
                return p.also ? { ...best!, also } : best!;
              })
            : widenPassages(passages, chunks, versionOf, windowTokens, probe, input.limit),
        fetchWindows,
        reach,
      );
      passages = widened.passages;
      timings.windowFetchMs = widened.fetchMs;
      timings.windowMs = performance.now() - tw;
    }
    if (dropped > 0)
      log.warn(
        { identity: identity.label, dropped },
        'vector hits refused by the Postgres access check (stale index payload?)',
      );
    return { passages, timings, dropped };
  };
}
