import type { Schemas } from '@qdrant/js-client-rest';
import { CollectionMismatchError } from './errors.js';

export const DENSE_VECTOR = 'dense';
export const SPARSE_VECTOR = 'sparse';

/**
 * The collection must have the named dense vector of EMBED_DIM and the IDF-modified sparse
 * vector; anything else is a start-up error naming the fix (never a silently wrong index).
 */
export function checkCollectionShape(info: Schemas['CollectionInfo'], collection: string, dim: number): void {
  const vectors = info.config.params.vectors as
    Record<string, { size?: number; distance?: string }> | undefined;
  const dense = vectors?.[DENSE_VECTOR];
  if (!dense || typeof dense.size !== 'number') {
    throw new CollectionMismatchError(
      `Qdrant collection ${collection} has no named dense vector "${DENSE_VECTOR}"; ` +
        `delete it or set QDRANT_COLLECTION to a new name`,
      { collection },
    );
  }
  if (dense.size !== dim) {
    throw new CollectionMismatchError(
      `Qdrant collection ${collection} holds ${dense.size}-dimensional vectors but EMBED_DIM is ${dim}; ` +
        `use the embedding model the collection was built with, or set QDRANT_COLLECTION to a new name and re-index`,
      { collection, expected: dim, actual: dense.size },
    );
  }
  const sparse = info.config.params.sparse_vectors?.[SPARSE_VECTOR];
  if (!sparse || sparse.modifier !== 'idf') {
    throw new CollectionMismatchError(
      `Qdrant collection ${collection} has no sparse vector "${SPARSE_VECTOR}" with modifier "idf"; ` +
        `delete it or set QDRANT_COLLECTION to a new name and re-index`,
      { collection },
    );
  }
}
