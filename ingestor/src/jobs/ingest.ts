import {
  bm25Tokens,
  documentPrincipals,
  encodeDocument,
  retry,
  type Access,
  type RetryAttempt,
  type RetryOptions,
  type Knex,
} from '@rattgllm/core';
import { faultReason } from '../errors.js';
import type { DocumentRecord, IngestorDeps } from '../deps.js';
import { parseDocument } from '../pipeline/parse/index.js';
import { chunkDocument, CHUNKER_VERSION } from '../pipeline/chunk.js';
import { DEFAULT_CHUNK_TOKENS } from '../pipeline/tokens.js';

/** What an index is built from; a change makes every document's index stale. */
export function indexSignature(deps: Pick<IngestorDeps, 'config' | 'chunkTokens'>): string {
  const { config } = deps;
  return [
    CHUNKER_VERSION,
    config.EMBED_MODEL,
    config.EMBED_DIM,
    config.EMBED_DOCUMENT_PREFIX,
    chunkTarget(deps),
    config.CHUNK_OVERLAP,
  ].join('|');
}

/** Target tokens per chunk: fitted to the model at start (main.ts), else CHUNK_TOKENS or 400. */
export function chunkTarget(deps: Pick<IngestorDeps, 'config' | 'chunkTokens'>): number {
  return deps.chunkTokens ?? deps.config.CHUNK_TOKENS ?? DEFAULT_CHUNK_TOKENS;
}

/**
 * The average BM25 length of the indexed passages (the corpus's, not FastEmbed's assumed 256).
 * Until the corpus has a few dozen passages, this document's own average stands in. Passages
 * keep the average they were encoded with; a reindex re-encodes them with the current one.
 */
async function corpusBm25Length(db: Knex, own: number[]): Promise<number> {
  const row = (await db('chunks')
    .whereNotNull('bm25_length')
    .select(db.raw('avg(bm25_length)::float as avg, count(*)::int as n'))
    .first()) as { avg: number | null; n: number } | undefined;
  if (row?.avg && row.n >= 32) return row.avg;
  const sum = own.reduce((a, b) => a + b, 0);
  return own.length && sum ? sum / own.length : 256;
}

export function principalsFor(doc: Pick<DocumentRecord, 'owner_id' | 'access'>): string[] {
  return documentPrincipals(doc.owner_id, doc.access as Access);
}

async function readObject(deps: IngestorDeps, key: string, signal: AbortSignal): Promise<Buffer> {
  // Parsers need the whole file (PDF, OOXML zip); uploads are capped at MAX_UPLOAD_MB.
  const stream = await deps.storage.get(key);
  const parts: Buffer[] = [];
  for await (const chunk of stream) {
    signal.throwIfAborted();
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** A row in these states is left as it is: deleted, or a person cancelled its indexing. */
export const STOPPED = ['deleted', 'cancelled'];

export interface IngestResult {
  status: 'indexed' | 'skipped' | 'gone' | 'cancelled';
  chunks: number;
}

/**
 * Parse → chunk → embed → index one document. Idempotent: the point ids derive from (document,
 * chunk index, text), and the version is the row's version + 1 until the run commits, so a retry
 * after a crash writes exactly the same points.
 */
export async function ingestDocument(
  deps: IngestorDeps,
  documentId: string,
  options: {
    force?: boolean;
    signal: AbortSignal;
    /** Retry embedding batches and the index write in place while failures are transient. */
    retry?: Omit<RetryOptions, 'signal' | 'onRetry'>;
  },
): Promise<IngestResult> {
  const { db, config, log, signal } = { ...deps, signal: options.signal };
  const waiting = waitingState(deps, documentId);
  const retrying: RetryOptions | undefined = options.retry && {
    ...options.retry,
    signal,
    onRetry: waiting.enter,
  };
  const doc = await db<DocumentRecord>('documents').where({ id: documentId }).first();
  if (!doc || doc.status === 'deleted') return { status: 'gone', chunks: 0 };
  // Cancelled after this job was fetched (its cancel reaches the signal at the next heartbeat).
  if (doc.status === 'cancelled') return { status: 'cancelled', chunks: 0 };
  const signature = indexSignature(deps);

  // Nothing changed since the last run, and the points are all there: no work.
  if (!options.force && doc.indexed_sha256 === doc.sha256 && doc.index_signature === signature) {
    const points = await deps.index.countDocumentPoints(doc.id);
    if (points === doc.chunk_count) {
      await db('documents')
        .where({ id: doc.id })
        .whereNot({ status: 'deleted' })
        .update({ status: 'indexed', progress: 1, error: null, updated_at: db.fn.now() });
      return { status: 'skipped', chunks: doc.chunk_count };
    }
  }

  await db('documents').where({ id: doc.id }).whereNotIn('status', STOPPED).update({
    status: 'processing',
    progress: 0,
    error: null,
    next_attempt_at: null,
    processing_started_at: db.fn.now(),
    updated_at: db.fn.now(),
  });

  const t: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    t[name] = Math.round(now - mark);
    mark = now;
  };
  const data = await readObject(deps, doc.storage_key, signal);
  lap('readMs');
  const parsed = await parseDocument(
    { data, filename: doc.filename, mime: doc.mime },
    { signal, log, limits: { maxBytes: config.MAX_UPLOAD_MB * 1024 * 1024 }, docling: deps.docling },
  );
  lap('parseMs');
  const chunks = await chunkDocument(
    parsed,
    { targetTokens: chunkTarget(deps), overlap: config.CHUNK_OVERLAP },
    { signal, log },
  );

  lap('chunkMs');
  // The passage is embedded with its heading path: "Install > On Linux" says what a bare
  // "Run the script." is about. The stored text stays the passage itself.
  const embedTexts = chunks.map((c) => (c.heading ? `${c.heading}\n\n${c.text}` : c.text));
  let truncated = 0;
  const onTruncated = (n: number) => (truncated += n);
  const vectors = await embedWithProgress(deps, doc.id, embedTexts, signal, retrying, waiting, onTruncated);
  lap('embedMs');
  if (truncated > 0) {
    // Ollama cut these passages to its context: their tails are only found by BM25.
    const warning = `${truncated} of ${chunks.length} passages were longer than the embedding model reads and were cut; lower CHUNK_TOKENS`;
    parsed.warnings.unshift(warning);
    log.warn({ documentId: doc.id, truncated, chunks: chunks.length }, warning);
  }
  const version = doc.version + 1;
  const principals = principalsFor(doc);
  const bm25Lengths = embedTexts.map((t) => bm25Tokens(t).length);
  const avgLength = await corpusBm25Length(db, bm25Lengths);
  const points = chunks.map((c, i) => ({
    index: c.index,
    text: c.text,
    page: c.page ?? null,
    pageEnd: c.pageEnd ?? null,
    ...(c.pageBreaks ? { pageBreaks: c.pageBreaks } : {}),
    heading: c.heading || null,
    dense: vectors[i]!,
    sparse: encodeDocument(embedTexts[i]!, avgLength),
  }));
  // The write is idempotent (derived ids), so a Qdrant outage here retries it whole.
  const base = { filename: doc.filename, principals, tags: doc.tags };
  const upsert = () => deps.index.upsertChunks(doc.id, version, points, base);
  const pointIds = retrying ? await retry(upsert, retrying) : await upsert();
  await waiting.leave();

  lap('indexMs');
  const committed = await db.transaction(async (trx) => {
    // The row may have changed while we worked: deleted, or given new content / access.
    const current = await trx<DocumentRecord>('documents').where({ id: doc.id }).forUpdate().first();
    if (!current || current.status === 'deleted') return false;
    await trx('chunks').where({ document_id: doc.id }).delete();
    for (let i = 0; i < chunks.length; i += 500) {
      await trx('chunks').insert(
        chunks.slice(i, i + 500).map((c, j) => ({
          document_id: doc.id,
          index: c.index,
          text: c.text,
          page: c.page ?? null,
          heading: c.heading || null,
          token_count: c.tokenCount,
          bm25_length: bm25Lengths[i + j],
          point_id: pointIds[i + j],
        })),
      );
    }
    await trx('documents')
      .where({ id: doc.id })
      .update({
        status: 'indexed',
        progress: 1,
        error: null,
        next_attempt_at: null,
        chunk_count: chunks.length,
        version,
        indexed_at: trx.fn.now(),
        updated_at: trx.fn.now(),
        indexed_sha256: doc.sha256,
        index_signature: signature,
        parser: parsed.parser,
        warnings: parsed.warnings.slice(0, 20),
      });
    return current.access === doc.access && current.owner_id === doc.owner_id;
  });
  if (!committed) {
    // Deleted meanwhile (its delete job may have run before our upsert): make sure nothing stays.
    const now = await db<DocumentRecord>('documents').where({ id: doc.id }).first();
    if (!now || now.status === 'deleted') {
      await deps.index.deleteDocument(doc.id);
      return { status: 'gone', chunks: 0 };
    }
    // Access changed while we embedded: write the current principals.
    await deps.index.setPrincipals(doc.id, principalsFor(now));
  }
  lap('commitMs');
  log.info({ documentId: doc.id, chunks: chunks.length, parser: parsed.parser, ...t }, 'indexed document');
  return { status: 'indexed', chunks: chunks.length };
}

/**
 * The row's `waiting` state while a dependency is retried in place: entered before each pause
 * (with the reason and the time of the next attempt), left once the call went through.
 */
function waitingState(deps: IngestorDeps, documentId: string) {
  let active = false;
  const live = () => deps.db('documents').where({ id: documentId }).whereNotIn('status', STOPPED);
  return {
    async enter(a: RetryAttempt): Promise<void> {
      active = true;
      deps.log.info({ documentId, attempt: a.attempt, delayMs: a.delayMs, err: a.error }, 'waiting to retry');
      await live().update({
        status: 'waiting',
        error: `${faultReason(a.error)}; retry ${a.attempt} at ${a.nextAttemptAt.toISOString()}`,
        next_attempt_at: a.nextAttemptAt,
        updated_at: deps.db.fn.now(),
      });
    },
    async leave(): Promise<void> {
      if (!active) return;
      active = false;
      await live().update({
        status: 'processing',
        error: null,
        next_attempt_at: null,
        updated_at: deps.db.fn.now(),
      });
    },
  };
}

/**
 * Embed through the process-wide batcher, so the passages of concurrent documents share calls,
 * and report progress as calls return (at most every 250 ms; the NOTIFY trigger moves the
 * widget's progress bar). With `retrying`, a document whose share failed is embedded again on its
 * own through the embedder's per-batch retry in place (the row shows `waiting` meanwhile).
 */
async function embedWithProgress(
  deps: IngestorDeps,
  documentId: string,
  chunks: string[],
  signal: AbortSignal,
  retrying: RetryOptions | undefined,
  waiting: ReturnType<typeof waitingState>,
  onTruncated: (count: number) => void,
): Promise<number[][]> {
  let lastReport = Date.now();
  let reporting: Promise<unknown> = Promise.resolve();
  const report = (done: number, total: number) => {
    const now = Date.now();
    if (now - lastReport < 250) return;
    lastReport = now;
    // Embedding is most of the work; keep 5% for writing the index. Chained, so an earlier
    // figure never lands after a later one.
    reporting = reporting.then(() =>
      deps
        .db('documents')
        .where({ id: documentId })
        .whereNot({ status: 'deleted' })
        .update({ progress: Math.min(0.95, (0.95 * done) / total) })
        .catch((err: unknown) => deps.log.warn({ err, documentId }, 'could not report progress')),
    );
  };
  let vectors: number[][];
  try {
    vectors = await deps.embedBatcher.embedTexts(chunks, { signal, onProgress: report, onTruncated });
  } catch (err) {
    if (!retrying || signal.aborted) throw err;
    vectors = await deps.embedder.embedDocuments(chunks, {
      signal,
      retry: retrying,
      onTruncated: (cut) => onTruncated(cut.length),
    });
    await waiting.leave();
  }
  await reporting;
  return vectors;
}
