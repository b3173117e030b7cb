import {
  JOBS,
  classifyError,
  documentsToEmbed,
  generationProgress,
  sendInTransaction,
  setGenerationState,
  switchGeneration,
} from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import type { GenerationRuntime } from './runtime.js';

/** Documents queued for the shadow per pass (pg-boss keeps one queued job per document). */
const BATCH = 200;

export interface RebuildOptions {
  intervalMs?: number;
  /** After a switch (here or by an admin in the gateway): re-index what the old generation got last. */
  onSwitched: () => Promise<void>;
}

/**
 * Drives a re-embedding: every pass notices a switch, queues the next batch of documents the
 * shadow lacks (or holds at an older version) as `reembed` jobs, and marks it ready once it holds
 * every indexed document. Ready + INDEX_AUTO_SWITCH (or an empty index) switches at once;
 * otherwise an admin switches (POST /admin/index/switch) after comparing.
 */
export function startRebuild(
  deps: IngestorDeps,
  runtime: GenerationRuntime,
  options: RebuildOptions,
): () => Promise<void> {
  const { db, log, config, boss } = deps;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function pass(): Promise<void> {
    if (await runtime.refresh()) {
      log.info(
        { active: runtime.active().generation.collection },
        'search switched to another index generation',
      );
      await options.onSwitched();
    }
    const shadow = runtime.building()?.generation;
    if (!shadow) return;
    // Building or ready, it keeps up with what changes meanwhile (uploads, re-indexed documents).
    const ids = await documentsToEmbed(db, shadow.collection, BATCH);
    for (const documentId of ids)
      await sendInTransaction(boss, db, JOBS.reembed, { documentId, collection: shadow.collection });
    if (shadow.state === 'building') {
      if (ids.length > 0) return;
      const progress = await generationProgress(db, shadow.collection);
      if (progress.done < progress.total) return;
      await setGenerationState(db, shadow.collection, 'ready');
      log.info(
        { collection: shadow.collection, ...progress },
        're-embedding complete: the shadow collection is ready',
      );
      await runtime.refresh();
    }
    const ready = runtime.building()?.generation;
    if (ready?.state !== 'ready') return;
    const { done, total } = await generationProgress(db, ready.collection);
    if (done < total || (!config.INDEX_AUTO_SWITCH && total > 0)) return;
    await switchGeneration(db, runtime.ops, config.QDRANT_COLLECTION, ready.collection);
    log.info({ collection: ready.collection }, 'switched search to the re-embedded collection');
    if (await runtime.refresh()) await options.onSwitched();
  }

  const timer = setInterval(() => {
    running = running
      .then(() => (stopped ? undefined : pass()))
      .catch((err: unknown) => {
        // A service that is down is retried by the next pass; only other faults are worth a warning.
        if (classifyError(err).retryable) log.debug({ err }, 're-embedding pass failed; trying again');
        else log.warn({ err }, 're-embedding pass failed; trying again');
      });
  }, options.intervalMs ?? 2_000);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
