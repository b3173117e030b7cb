import { watch, type FSWatcher } from 'chokidar';
import type { IngestorDeps } from '../deps.js';
import { isIgnoredPath } from './layout.js';
import { relativeDropPath, removeDropFile, syncDropFile } from './sync.js';

export interface DropWatcherOptions {
  /** How long an unlink waits for the matching add of a rename (ms). */
  renameGraceMs?: number;
  /** How long a file's size must stay the same before it is read (ms). */
  stabilityMs?: number;
}

/**
 * Watches the drop folder. Events for one path are handled one after another (a later event
 * waits for the earlier one), different paths in parallel. An unlink waits a moment, so a
 * rename (unlink + add) is seen as a move and the file is not re-embedded.
 */
export class DropWatcher {
  private watcher: FSWatcher | null = null;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: IngestorDeps,
    private readonly root: string,
    private readonly options: DropWatcherOptions = {},
  ) {}

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
    this.watcher.on('add', (p) => this.enqueue(p, 'sync'));
    this.watcher.on('change', (p) => this.enqueue(p, 'sync'));
    this.watcher.on('unlink', (p) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.enqueue(p, 'remove');
      }, this.options.renameGraceMs ?? 1500);
      this.timers.add(t);
    });
    this.watcher.on('error', (err) => log.error({ err }, 'drop folder watcher error'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    log.info({ root: this.root, polling: config.DROP_POLLING }, 'watching the drop folder');
  }

  private enqueue(absPath: string, what: 'sync' | 'remove'): void {
    const rel = relativeDropPath(this.root, absPath);
    if (rel === null) return;
    const previous = this.chains.get(rel) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        if (what === 'sync') await syncDropFile(this.deps, this.root, rel);
        else await removeDropFile(this.deps, this.root, rel);
      })
      .catch((err: unknown) => {
        // The next reconcile pass (at most REINDEX_INTERVAL away) picks the file up again.
        this.deps.log.error({ err, path: rel }, 'drop folder: could not process a change');
      })
      .finally(() => {
        if (this.chains.get(rel) === next) this.chains.delete(rel);
      });
    this.chains.set(rel, next);
  }

  /** Resolves when every change seen so far has been handled (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.all(this.chains.values());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.watcher?.close();
    this.watcher = null;
    await this.idle();
  }
}
