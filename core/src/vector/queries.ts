import type { Schemas } from '@qdrant/js-client-rest';
import type { SparseVector } from '../sparse/bm25.js';
import { DENSE_VECTOR, SPARSE_VECTOR } from './shape.js';

export type SearchMode = 'hybrid' | 'dense' | 'sparse';

interface QueryInput {
  dense: number[];
  sparse: SparseVector;
  limit: number;
  mode?: SearchMode;
}

/** One candidate list alone: the dense (cosine) or the sparse (BM25 with Qdrant's IDF) one. */
export function listQuery(
  input: QueryInput,
  list: 'dense' | 'sparse',
  filter: Schemas['Filter'],
  limit: number,
  withPayload: boolean | string[],
): Schemas['QueryRequest'] {
  return {
    query: list === 'dense' ? input.dense : { indices: input.sparse.indices, values: input.sparse.values },
    using: list === 'dense' ? DENSE_VECTOR : SPARSE_VECTOR,
    filter,
    limit,
    with_payload: withPayload,
  };
}
