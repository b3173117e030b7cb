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
export function indexStage(
  deps: Pick<IngestorDeps, 'db' | 'index' | 'writeBatcher'>,
): Stage<IndexInput, ChunkRow[]> {
  return async ({ doc, version, chunks, embedded, retry: retrying }, { signal }) => {
    const tokens = embedded.texts.map((t) => bm25Tokens(t));
    const bm25Lengths = tokens.map((t) => t.length);
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
      sparse: encodeDocument(embedded.texts[i]!, avgLength, tokens[i]),
    }));
    // The write is idempotent (derived ids), so a Qdrant outage here retries it whole.
    const base = { filename: doc.filename, principals: rowPrincipals(doc), tags: doc.tags };
    // Shared with the writes of other documents ready now; resolves once this one's are durable.
    const write = { documentId: doc.id, version, chunks: points, base };
    const upsert = () => deps.writeBatcher.upsert(deps.index, write, signal);
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
  const corpus = await cachedBm25Stats(deps.db);
  if (corpus.avg && corpus.n >= 32) return corpus.avg;
  const sum = own.reduce((a, b) => a + b, 0);
  return own.length && sum ? sum / own.length : 256;
}

/**
 * The corpus figures are read at most once per BM25_STATS_TTL_MS per database: the average
 * moves slowly, and reading it is an aggregate over every chunk row (a scan that grows with the
 * corpus), which each small document otherwise paid for.
 */
const BM25_STATS_TTL_MS = 2000;
const bm25Stats = new WeakMap<
  IngestorDeps['db'],
  { at: number; stats: ReturnType<typeof corpusBm25Stats> }
>();
function cachedBm25Stats(db: IngestorDeps['db']): ReturnType<typeof corpusBm25Stats> {
  const hit = bm25Stats.get(db);
  if (hit && Date.now() - hit.at < BM25_STATS_TTL_MS) return hit.stats;
  const stats = corpusBm25Stats(db);
  bm25Stats.set(db, { at: Date.now(), stats });
  // A failed read is not kept: the next document asks again.
  stats.catch(() => bm25Stats.delete(db));
  return stats;
}
