import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { DENSE_VECTOR, SPARSE_VECTOR } from './shape.js';
import { CollectionMissingError, translateQdrantError } from './errors.js';
import { chunkPointId } from './ids.js';
import { ensureCollection as ensureShape } from './collection.js';
import { fusionOf, hybridSearch } from './search.js';
import { pointsInRanges } from './neighbours.js';
import { createQdrantHttp } from './http.js';
import type {
  ChunkPayload,
  ChunkPayloadBase,
  ChunkPoint,
  DocumentPoints,
  QdrantCall,
  VectorIndex,
  VectorIndexConfig,
} from './types.js';

export * from './types.js';
export { byFusedScore } from './fusion.js';
export { DENSE_VECTOR, SPARSE_VECTOR };
export type { SearchMode } from './queries.js';

type Filter = Schemas['Filter'];
type Condition = Schemas['FieldCondition'];

const keyword = (key: string, value: string): Condition => ({ key, match: { value } });

/**
 * The vector index (Qdrant): one collection of passages with dense and BM25 vectors and the
 * readers' principals. Here: the client, the call wrapper that heals a lost collection, and the
 * writes; the collection's shape is collection.ts, the search search.ts, the shapes types.ts.
 */

export interface VectorIndexOptions {
  /**
   * Called once each time this process found the collection missing and re-created it: every
   * point is gone, so the documents that had some must be indexed again (the ingestor re-queues
   * them; the consistency check catches what another process re-created).
   */
  onCollectionRecreated?: () => Promise<void> | void;
  /**
   * Re-create the collection when a call finds it missing (default true). Off for the versioned
   * collections of index generations: one that is gone was dropped, and must stay gone.
   */
  repair?: boolean;
}

export function createVectorIndex(config: VectorIndexConfig, options: VectorIndexOptions = {}): VectorIndex {
  const url = config.QDRANT_URL.replace(/\/+$/, '');
  const collection = config.QDRANT_COLLECTION;
  const fusion = fusionOf(config);
  const client = new QdrantClient({
    url,
    ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}),
    // The version probe is an extra request at construction that logs a warning when it fails;
    // ensureCollection is our real start-up check.
    checkCompatibility: false,
  });

  const http = createQdrantHttp(url, config.QDRANT_API_KEY);

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
  const q: QdrantCall = async <T>(what: string, fn: () => Promise<T>, repair = true): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const e = translate(what, err);
      if (!(repair && options.repair !== false && e instanceof CollectionMissingError)) throw e;
    }
    await repairCollection();
    try {
      return await fn();
    } catch (err) {
      throw translate(what, err);
    }
  };

  const ensure = () => ensureShape(client, collection, config.EMBED_DIM, q);
  async function ensureCollection(): Promise<void> {
    await ensure();
  }

  async function upsertChunks(
    documentId: string,
    version: number,
    chunks: ChunkPoint[],
    base: ChunkPayloadBase,
  ): Promise<string[]> {
    const [ids] = await upsertDocuments([{ documentId, version, chunks, base }]);
    return ids!;
  }

  function toPoints({ documentId, version, chunks, base }: DocumentPoints) {
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
    return { ids, points };
  }

  async function upsertDocuments(writes: DocumentPoints[]): Promise<string[][]> {
    const each = writes.map(toPoints);
    const points = each.flatMap((w) => w.points);
    // Bounded request size: a 500-page PDF must not become one 50 MB request body.
    for (let i = 0; i < points.length; i += 128) {
      const batch = points.slice(i, i + 128);
      await q('store points', () => client.upsert(collection, { wait: true, points: batch }));
    }
    // Only after the new points are durable: remove what each version replaces (older versions
    // and same-version leftovers of an earlier, differently chunked attempt), never newer versions.
    const replaced = writes.map(({ documentId, version }, i): Filter => ({
      must: [keyword('document_id', documentId), { key: 'version', range: { lte: version } }],
      ...(each[i]!.ids.length ? { must_not: [{ has_id: each[i]!.ids }] } : {}),
    }));
    if (replaced.length) {
      const filter = replaced.length === 1 ? replaced[0]! : { should: replaced };
      await q('delete replaced points', () => client.delete(collection, { wait: true, filter }));
    }
    return each.map((w) => w.ids);
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

  return {
    collection,
    ensureCollection,
    upsertChunks,
    upsertDocuments,
    deleteDocument,
    setPrincipals,
    countDocumentPoints,
    hybridSearch: (input) => hybridSearch(client, http, collection, q, fusion, input),
    chunksInRanges: async (principals, ranges) =>
      (await pointsInRanges(http, collection, q, principals, ranges)).map((c) => c.payload),
    pointsInRanges: (principals, ranges) => pointsInRanges(http, collection, q, principals, ranges),
  };
}
