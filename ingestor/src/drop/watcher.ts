import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { IngestorDeps } from '../deps.js';
import { ping } from '../store.js';
import { isIgnoredPath, relativeDropPath } from './layout.js';
import { DropQueue, type DropQueueStats } from './queue.js';
import { removeDropFile, syncDropFile } from './sync.js';

export interface DropWatcherOptions {
  /** How long an unlink waits for the matching add of a rename (ms). */
  renameGraceMs?: number;
  /** How long a file's size must stay the same before it is read (ms). */
  stabilityMs?: number;
  /** Queue a full reconcile pass (when more changes arrive than the queue keeps). */
  requestReconcile?: () => Promise<void>;
  /** Backoff of the outage probe and of retries (ms); tests shorten it. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * At most the pool's size. A change holds a connection only for its own short reads: the rows and
 * jobs of changes found together are written in one statement (write-batcher.ts), so the job
 * worker and the reconcile pass still get connections while a burst is registered.
 */
export function dropConcurrency(config: IngestorDeps['config']): number {
  return Math.max(1, Math.min(config.DROP_CONCURRENCY, config.DATABASE_POOL_MAX));
}

/**
 * Watches the drop folder and feeds changed paths to a bounded, de-duplicating queue (queue.ts):
 * each path is settled from what is on disk when its turn comes, so a burst of events costs one
 * pass per path, and a change that cannot be recorded (Postgres down) is kept and replayed. An
 * unlink waits a moment, so a rename (unlink + add) is seen as a move and not re-embedded.
 */
export class DropWatcher {
  private watcher: FSWatcher | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly queue: DropQueue;
  private watching = false;
  private watchError: string | null = null;

  constructor(
    private readonly deps: IngestorDeps,
    private readonly root: string,
    private readonly options: DropWatcherOptions = {},
  ) {
    const { db, storage, log } = deps;
    this.queue = new DropQueue({
      concurrency: dropConcurrency(deps.config),
      maxPaths: deps.config.DROP_QUEUE_MAX,
      handle: (rel) => this.settle(rel),
      probe: async () => {
        await ping(db);
        await storage.stat('health/probe'); // null when absent; throws when the store is down
      },
      requestReconcile: options.requestReconcile ?? (() => Promise.resolve()),
      log,
      ...(options.retryMinMs ? { retryMinMs: options.retryMinMs } : {}),
      ...(options.retryMaxMs ? { retryMaxMs: options.retryMaxMs } : {}),
    });
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const stability = this.options.stabilityMs ?? 500;
    this.watcher = watch(this.root, {
      ignoreInitial: true, // the reconcile pass at start covers what is already there
      persistent: true,
      followSymlinks: false,
      usePolling: config.DROP_POLLING,
      interval: 1000,
      awaitWriteFinish: { stabilityThreshold: stability, pollInterval: Math.min(200, stability) },
      ignored: (path: string) => {
        const rel = relativeDropPath(this.root, path);
        return rel !== null && isIgnoredPath(rel);
      },
    });
    this.watcher.on('add', (p) => this.enqueue(p));
    this.watcher.on('change', (p) => this.enqueue(p));
    this.watcher.on('unlink', (p) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.enqueue(p);
      }, this.options.renameGraceMs ?? 1500);
      this.timers.add(t);
    });
    this.watcher.on('error', (err) => {
      this.watchError = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'drop folder watcher error');
    });
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    this.watching = true;
    log.info(
      { root: this.root, polling: config.DROP_POLLING, concurrency: dropConcurrency(config) },
      'watching the drop folder',
    );
  }

  /** What /health and the heartbeat report. */
  status(): DropQueueStats & { watching: boolean; watchError: string | null } {
    return { ...this.queue.stats(), watching: this.watching, watchError: this.watchError };
  }

  /** One pass for a path, from what is on disk now: present → sync, gone → remove. */
  private async settle(rel: string): Promise<void> {
    const present = await lstat(resolve(this.root, rel)).catch(() => undefined);
    if (present) await syncDropFile(this.deps, this.root, rel, present);
    else await removeDropFile(this.deps, this.root, rel);
  }

  private enqueue(absPath: string): void {
    const rel = relativeDropPath(this.root, absPath);
    if (rel !== null) this.queue.add(rel);
  }

  /** Resolves when every change seen so far has been recorded (tests, graceful stop). */
  async idle(): Promise<void> {
    await this.queue.idle();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.watching = false;
    await this.watcher?.close();
    this.watcher = null;
    await this.queue.stop();
  }
}
