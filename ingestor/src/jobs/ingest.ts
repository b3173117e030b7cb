import {
  isLive,
  rowPrincipals,
  setStatus,
  type DocumentRow,
  type RetryAttempt,
  type RetryOptions,
} from '@rattgllm/core';
import { faultReason } from '../errors.js';
import type { IngestorDeps } from '../deps.js';
import { getDocument } from '../store.js';
import { indexSignature } from '../pipeline/signature.js';
import { readStage } from '../pipeline/stages/read.js';
import { parseStage } from '../pipeline/stages/parse.js';
import { chunkStage } from '../pipeline/stages/chunk.js';
import { embedStage } from '../pipeline/stages/embed.js';
import { indexStage } from '../pipeline/stages/index-points.js';

export interface IngestResult {
  status: 'indexed' | 'skipped' | 'gone' | 'cancelled';
  chunks: number;
}

/**
 * Read → parse → chunk → embed → index one document (pipeline/stages/), then commit its chunks
 * and `indexed` status. Idempotent: the point ids derive from (document, chunk index, text), and
 * the version is the row's version + 1 until the run commits, so a retry after a crash writes
 * exactly the same points.
 */
export async function ingestDocument(
  deps: IngestorDeps,
  documentId: string,
  options: {
    force?: boolean;
    signal: AbortSignal;
    /** Retry embedding batches and the index write in place while failures are transient. */
    retry?: Omit<RetryOptions, 'signal' | 'onRetry'>;
    /** The row as just read by the caller (undefined: gone); omitted, it is read here. */
    row?: DocumentRow | undefined;
  },
): Promise<IngestResult> {
  const { db, log } = deps;
  const ctx = { signal: options.signal, log };
  const waiting = waitingState(deps, documentId);
  const retry: RetryOptions | undefined = options.retry && {
    ...options.retry,
    signal: options.signal,
    onRetry: waiting.enter,
  };
  const doc = 'row' in options ? options.row : await deps.writeBatcher.read(db, documentId);
  if (!isLive(doc)) return { status: 'gone', chunks: 0 };
  // Cancelled after this job was fetched (its cancel reaches the signal at the next heartbeat).
  if (doc.status === 'cancelled') return { status: 'cancelled', chunks: 0 };
  const signature = indexSignature(deps);

  // Nothing changed since the last run, and the points are all there: no work.
  if (!options.force && doc.indexed_sha256 === doc.sha256 && doc.index_signature === signature) {
    const points = await deps.index.countDocumentPoints(doc.id);
    if (points === doc.chunk_count) {
      await setStatus(db, doc.id, { status: 'indexed', progress: 1, error: null });
      return { status: 'skipped', chunks: doc.chunk_count };
    }
  }
  await deps.writeBatcher.start(db, doc.id);

  const t: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    t[name] = Math.round(now - mark);
    mark = now;
  };
  const data = await readStage(deps)({ storageKey: doc.storage_key }, ctx);
  lap('readMs');
  const parsed = await parseStage(deps)({ data, filename: doc.filename, mime: doc.mime }, ctx);
  lap('parseMs');
  const chunks = await chunkStage(deps)(parsed, ctx);
  lap('chunkMs');
  const embedded = await embedStage(deps)(
    { documentId: doc.id, chunks, retry, onRecovered: waiting.leave },
    ctx,
  );
  lap('embedMs');
  if (embedded.truncated > 0) {
    // Ollama cut these passages to its context: their tails are only found by BM25.
    const warning = `${embedded.truncated} of ${chunks.length} passages were longer than the embedding model reads and were cut; lower CHUNK_TOKENS`;
    parsed.warnings.unshift(warning);
    log.warn({ documentId: doc.id, truncated: embedded.truncated, chunks: chunks.length }, warning);
  }
  const version = doc.version + 1;
  const rows = await indexStage(deps)({ doc, version, chunks, embedded, retry }, ctx);
  await waiting.leave();
  lap('indexMs');

  // The row may have changed while we worked: deleted, or given new content / access.
  // In one transaction with the commits of other documents finishing now (write-batcher.ts).
  const fields = {
    chunk_count: chunks.length,
    version,
    indexed_sha256: doc.sha256,
    index_signature: signature,
    parser: parsed.parser,
    warnings: parsed.warnings.slice(0, 20),
  };
  const current = await deps.writeBatcher.commit(
    db,
    { documentId: doc.id, chunks: rows, fields },
    options.signal,
  );
  if (!current || current.access !== doc.access || current.owner_id !== doc.owner_id) {
    // Deleted meanwhile (its delete job may have run before our upsert): make sure nothing stays.
    const now = await getDocument(db, doc.id);
    if (!isLive(now)) {
      await deps.index.deleteDocument(doc.id);
      return { status: 'gone', chunks: 0 };
    }
    // Access changed while we embedded: write the current principals.
    await deps.index.setPrincipals(doc.id, rowPrincipals(now));
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
  return {
    async enter(a: RetryAttempt): Promise<void> {
      active = true;
      deps.log.info({ documentId, attempt: a.attempt, delayMs: a.delayMs, err: a.error }, 'waiting to retry');
      await setStatus(deps.db, documentId, {
        status: 'waiting',
        error: `${faultReason(a.error)}; retry ${a.attempt} at ${a.nextAttemptAt.toISOString()}`,
        next_attempt_at: a.nextAttemptAt,
      });
    },
    async leave(): Promise<void> {
      if (!active) return;
      active = false;
      await setStatus(deps.db, documentId, { status: 'processing', error: null, next_attempt_at: null });
    },
  };
}
