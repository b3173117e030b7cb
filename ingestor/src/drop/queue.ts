/**
 * The drop folder's work queue: one entry per path (de-duplicated), worked through by a fixed
 * number of workers, so 5,000 files dropped at once use `concurrency` pool connections instead of
 * 5,000 promises racing for 10 (seen on main: 2,767 of 5,181 files lost to KnexTimeoutError).
 *
 * The handler settles a path from what is on disk *now* (sync if the file exists, remove if not),
 * so a path needs to be queued once however many events arrive for it: a later event for a
 * queued path changes nothing, one for a running path runs it once more afterwards.
 *
 * A failure is never dropped. The path is held and the dependencies are probed: while they do not
 * answer (Postgres or object storage down) the queue pauses and probes with capped backoff, then
 * replays every held path. A path that fails while everything answers (its own problem) is retried
 * a few times with backoff, then left to the reconcile pass. Memory is bounded: beyond `maxPaths`
 * distinct paths new events are not kept; a full reconcile pass is requested instead, as soon as
 * the dependencies answer.
 */
import type { Logger } from '@rattgllm/core';

export interface DropQueueOptions {
  concurrency: number;
  /** Distinct paths kept (waiting, held or to run again); beyond this a reconcile is requested. */
  maxPaths: number;
  handle(path: string): Promise<void>;
  /** Resolves when the dependencies answer (Postgres, object storage); rejects while they do not. */
  probe(): Promise<void>;
  /** Queue a full reconcile pass (after an overflow); may reject while the database is down. */
  requestReconcile(): Promise<void>;
  log: Logger;
  /** Backoff between probes and file retries (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Tries of a path that fails while every dependency answers. */
  maxAttempts?: number;
}

export interface DropQueueStats {
  waiting: number;
  running: number;
  /** Paths kept for replay after a failure. */
  held: number;
  /** True while the dependencies do not answer. */
  paused: boolean;
  /** Events that could not be kept (over maxPaths); a reconcile pass covers them. */
  overflowed: boolean;
  done: number;
  failures: number;
  replayed: number;
  gaveUp: number;
  maxRunning: number;
  /** The last failure, for /health (message only). */
  lastError: string | null;
}

export class DropQueue {
  private readonly waiting = new Set<string>(); // insertion-ordered: first in, first out
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly held = new Set<string>();
  private readonly attempts = new Map<string, number>();
  /** Failed paths waiting for the probe's verdict: outage or the file's own problem. */
  private readonly suspects = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private paused = false;
  private probing = false;
  private overflowed = false;
  private requesting = false;
  private stopped = false;
  private probeDelay: number;
  private readonly counters = { done: 0, failures: 0, replayed: 0, gaveUp: 0, maxRunning: 0 };
  private lastError: string | null = null;

  constructor(private readonly o: DropQueueOptions) {
    this.probeDelay = o.retryMinMs ?? 1000;
  }

  /** Queue a path (an event arrived for it). */
  add(path: string): void {
    if (this.stopped || this.waiting.has(path) || this.held.has(path)) return;
    if (this.running.has(path)) {
      this.again.add(path);
      return;
    }
    if (this.size() >= this.o.maxPaths) {
      if (!this.overflowed)
        this.o.log.warn(
          { maxPaths: this.o.maxPaths },
          'drop folder: too many changes at once; a full reconcile pass will cover the rest',
        );
      this.overflowed = true;
      this.settleOverflow();
      return;
    }
    this.waiting.add(path);
    this.pump();
  }

  stats(): DropQueueStats {
    return {
      waiting: this.waiting.size + this.again.size,
      running: this.running.size,
      held: this.held.size,
      paused: this.paused,
      overflowed: this.overflowed,
      ...this.counters,
      lastError: this.lastError,
    };
  }

  /** Resolves when nothing is waiting, running or held (tests, graceful stop). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Take no new work and wait for the paths in hand; what is still held is left to reconcile. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    while (this.running.size) await new Promise((r) => setTimeout(r, 20));
    const left = this.waiting.size + this.held.size + this.again.size;
    if (left)
      this.o.log.warn(
        { paths: left },
        'drop folder: stopping with changes not recorded; the reconcile at start covers them',
      );
  }

  private size(): number {
    return this.waiting.size + this.held.size + this.again.size;
  }

  private isIdle(): boolean {
    return !this.running.size && !this.size() && !this.overflowed;
  }

  private pump(): void {
    while (!this.paused && !this.stopped && this.running.size < this.o.concurrency && this.waiting.size) {
      const path = this.waiting.values().next().value as string;
      this.waiting.delete(path);
      this.running.add(path);
      this.counters.maxRunning = Math.max(this.counters.maxRunning, this.running.size);
      void this.run(path);
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async run(path: string): Promise<void> {
    let failed = false;
    try {
      await this.o.handle(path);
      this.counters.done++;
      this.attempts.delete(path);
    } catch (err) {
      failed = true;
      this.counters.failures++;
      this.lastError = err instanceof Error ? err.message : String(err);
      this.held.add(path);
      this.suspects.add(path);
      this.o.log.warn({ err, path }, 'drop folder: could not record a change; kept for a retry');
    } finally {
      this.running.delete(path);
      // An event that arrived meanwhile: the held entry replays it, or it runs once more now.
      if (this.again.delete(path) && !this.held.has(path)) this.waiting.add(path);
    }
    if (failed) void this.check();
    this.pump();
  }

  /**
   * After a failure: are the dependencies down (pause and wait for them) or is it the file? One
   * probe at a time; paths that fail meanwhile wait for its verdict (or the next one).
   */
  private async check(): Promise<void> {
    if (this.paused || this.probing) return;
    this.probing = true;
    const up = await this.o.probe().then(
      () => true,
      () => false,
    );
    this.probing = false;
    if (this.stopped) return;
    if (!up) {
      this.suspects.clear(); // every held path is replayed once they answer
      this.pauseUntilUp();
      return;
    }
    // Everything answers: those files failed on their own. Retry a few times, then leave them
    // to the reconcile pass (which also logs why).
    const paths = [...this.suspects];
    this.suspects.clear();
    for (const path of paths) {
      const n = (this.attempts.get(path) ?? 0) + 1;
      this.attempts.set(path, n);
      if (n >= (this.o.maxAttempts ?? 5)) {
        this.held.delete(path);
        this.attempts.delete(path);
        this.counters.gaveUp++;
        this.o.log.error(
          { path, attempts: n },
          'drop folder: giving up on a change; the reconcile pass retries it',
        );
      } else this.later(this.backoff(n), () => this.replay([path]));
    }
    if (this.suspects.size) void this.check();
    this.pump();
  }

  private pauseUntilUp(): void {
    if (this.paused) return; // one probe loop
    this.o.log.warn('drop folder: Postgres or object storage does not answer; keeping changes until it does');
    this.paused = true;
    this.probeLater();
  }

  private probeLater(): void {
    this.later(this.probeDelay, async () => {
      const up = await this.o.probe().then(
        () => true,
        () => false,
      );
      if (this.stopped) return;
      if (!up) {
        this.probeDelay = Math.min(this.probeDelay * 2, this.o.retryMaxMs ?? 30_000);
        this.probeLater();
        return;
      }
      this.probeDelay = this.o.retryMinMs ?? 1000;
      this.paused = false;
      this.suspects.clear();
      this.o.log.info(
        { held: this.held.size },
        'drop folder: dependencies answer again; replaying kept changes',
      );
      this.replay([...this.held]);
      this.settleOverflow();
    });
  }

  private replay(paths: string[]): void {
    for (const p of paths) {
      if (!this.held.delete(p)) continue;
      this.counters.replayed++;
      if (this.running.has(p)) this.again.add(p);
      else this.waiting.add(p);
    }
    this.pump();
  }

  /** After an overflow, once nothing else is waiting: one full reconcile pass covers what was not kept. */
  private settleOverflow(): void {
    if (!this.overflowed || this.paused || this.stopped || this.requesting) return;
    this.requesting = true;
    this.o.requestReconcile().then(
      () => {
        this.requesting = false;
        this.overflowed = false;
        this.o.log.info('drop folder: reconcile pass queued for the changes that were not kept');
        this.pump();
      },
      () => {
        this.requesting = false;
        this.pauseUntilUp();
      },
    );
  }

  private backoff(attempt: number): number {
    const min = this.o.retryMinMs ?? 1000;
    const capped = Math.min(min * 2 ** (attempt - 1), this.o.retryMaxMs ?? 30_000);
    return capped / 2 + (Math.random() * capped) / 2; // jitter: retries of many paths spread out
  }

  private later(ms: number, fn: () => unknown): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }
}
