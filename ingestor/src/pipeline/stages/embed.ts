import { setProgress, type RetryOptions } from '@rattgllm/core';
import type { IngestorDeps } from '../../deps.js';
import type { Chunk, Stage } from '../types.js';

export interface EmbedInput {
  documentId: string;
  chunks: Chunk[];
  /** Retry in place while failures are transient (the caller shows the row `waiting` meanwhile). */
  retry?: RetryOptions | undefined;
  /** Called once a retried embedding went through (the row leaves `waiting`). */
  onRecovered?: () => Promise<void>;
}

export interface EmbedOutput {
  /** The text each passage was embedded as (heading path + passage), in chunk order. */
  texts: string[];
  vectors: number[][];
  /** Passages longer than the model reads, which the embedder cut. */
  truncated: number;
}

/** Progress figures are written at most this often (the NOTIFY trigger moves the widget's bar). */
const PROGRESS_EVERY_MS = 250;

/**
 * Stage 3, embed: through the process-wide batcher, so the passages of concurrent documents
 * share calls, reporting progress as calls return. With `retry`, a document whose share failed
 * is embedded again on its own through the embedder's per-batch retry in place.
 */
export function embedStage(
  deps: Pick<IngestorDeps, 'db' | 'embedBatcher' | 'embedder'>,
): Stage<EmbedInput, EmbedOutput> {
  return async (input, { signal, log }) => {
    const { documentId, chunks, retry } = input;
    // The passage is embedded with its heading path: "Install > On Linux" says what a bare
    // "Run the script." is about. The stored text stays the passage itself.
    const texts = chunks.map((c) => (c.heading ? `${c.heading}\n\n${c.text}` : c.text));
    let truncated = 0;
    const onTruncated = (n: number) => (truncated += n);

    let lastReport = Date.now();
    let reporting: Promise<unknown> = Promise.resolve();
    const report = (done: number, total: number) => {
      const now = Date.now();
      if (now - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = now;
      // Embedding is most of the work; keep 5% for writing the index. Chained, so an earlier
      // figure never lands after a later one.
      reporting = reporting.then(() =>
        setProgress(deps.db, documentId, Math.min(0.95, (0.95 * done) / total)).catch((err: unknown) =>
          log.warn({ err, documentId }, 'could not report progress'),
        ),
      );
    };
    let vectors: number[][];
    try {
      vectors = await deps.embedBatcher.embedTexts(texts, { signal, onProgress: report, onTruncated });
    } catch (err) {
      if (!retry || signal.aborted) throw err;
      vectors = await deps.embedder.embedDocuments(texts, {
        signal,
        retry,
        onTruncated: (cut) => onTruncated(cut.length),
      });
      await input.onRecovered?.();
    }
    await reporting;
    return { texts, vectors, truncated };
  };
}
