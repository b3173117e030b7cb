import {
  bm25Tokens,
  encodeDocument,
  retry,
  rowPrincipals,
  type DocumentRow,
  type RetryOptions,
} from '@rattgllm/core';
import type { IngestorDeps } from '../../deps.js';
import { corpusBm25Stats, type ChunkRow } from '../../store.js';
import type { Chunk, Stage } from '../types.js';
import type { EmbedOutput } from './embed.js';

export interface IndexInput {
  doc: Pick<DocumentRow, 'id' | 'filename' | 'owner_id' | 'access' | 'tags'>;
  /** The version the points are written under (the row's + 1 until the run commits). */
  version: number;
  chunks: Chunk[];
  embedded: Pick<EmbedOutput, 'texts' | 'vectors'>;
  /** Retry the write in place while failures are transient. */
  retry?: RetryOptions | undefined;
}

/**
 * Stage 4, index: dense and BM25 vectors with the passage and its readers' principals, upserted
 * into the vector index. Returns the `chunks` rows that record what went where.
 */
export function indexStage(deps: Pick<IngestorDeps, 'db' | 'index'>): Stage<IndexInput, ChunkRow[]> {
  return async ({ doc, version, chunks, embedded, retry: retrying }, { signal }) => {
    const bm25Lengths = embedded.texts.map((t) => bm25Tokens(t).length);
    const avgLength = await corpusBm25Length(deps, bm25Lengths);
    signal.throwIfAborted();
    const points = chunks.map((c, i) => ({
      index: c.index,
      text: c.text,
      page: c.page ?? null,
      pageEnd: c.pageEnd ?? null,
      ...(c.pageBreaks ? { pageBreaks: c.pageBreaks } : {}),
      heading: c.heading || null,
      dense: embedded.vectors[i]!,
      sparse: encodeDocument(embedded.texts[i]!, avgLength),
    }));
    // The write is idempotent (derived ids), so a Qdrant outage here retries it whole.
    const base = { filename: doc.filename, principals: rowPrincipals(doc), tags: doc.tags };
    const upsert = () => deps.index.upsertChunks(doc.id, version, points, base);
    const pointIds = retrying ? await retry(upsert, retrying) : await upsert();
    return chunks.map((c, i) => ({
      index: c.index,
      text: c.text,
      page: c.page ?? null,
      heading: c.heading || null,
      token_count: c.tokenCount,
      bm25_length: bm25Lengths[i]!,
      point_id: pointIds[i]!,
    }));
  };
}

/**
 * The average BM25 length of the indexed passages (the corpus's, not FastEmbed's assumed 256).
 * Until the corpus has a few dozen passages, this document's own average stands in. Passages
 * keep the average they were encoded with; a reindex re-encodes them with the current one.
 */
async function corpusBm25Length(deps: Pick<IngestorDeps, 'db'>, own: number[]): Promise<number> {
  const corpus = await corpusBm25Stats(deps.db);
  if (corpus.avg && corpus.n >= 32) return corpus.avg;
  const sum = own.reduce((a, b) => a + b, 0);
  return own.length && sum ? sum / own.length : 256;
}
