import type { QdrantClient } from '@qdrant/js-client-rest';
import { DENSE_VECTOR, SPARSE_VECTOR, checkCollectionShape } from './shape.js';
import { QdrantRequestError } from './errors.js';
import { INDEXED_INTEGERS, INDEXED_KEYWORDS, type QdrantCall } from './types.js';

/**
 * Create the collection if missing (named dense vector of `dim`, cosine; BM25 sparse vector with
 * IDF), check the shape of an existing one, and make sure the payload indexes every query
 * filters on exist. True when this call created the collection.
 */
export async function ensureCollection(
  client: QdrantClient,
  collection: string,
  dim: number,
  q: QdrantCall,
): Promise<boolean> {
  let created = false;
  const { exists } = await q('check the collection', () => client.collectionExists(collection), false);
  if (!exists) {
    try {
      await q(
        'create the collection',
        () =>
          client.createCollection(collection, {
            vectors: { [DENSE_VECTOR]: { size: dim, distance: 'Cosine' } },
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
  checkCollectionShape(info, collection, dim);
  // Created on a collection made before an index was added too (Qdrant builds it over the
  // points already there; creating an existing index is a no-op).
  const wanted = [
    ...INDEXED_KEYWORDS.map((field) => [field, 'keyword'] as const),
    ...INDEXED_INTEGERS.map((field) => [field, 'integer'] as const),
  ];
  for (const [field, schema] of wanted) {
    if (info.payload_schema[field]?.data_type === schema) continue;
    await q(
      `index ${field}`,
      () => client.createPayloadIndex(collection, { field_name: field, field_schema: schema, wait: true }),
      false,
    );
  }
  return created;
}
