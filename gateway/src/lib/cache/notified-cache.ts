/**
 * A small in-memory cache for facts Postgres announces the changes of (NOTIFY): entries live at
 * most `ttlMs`, any announced change drops them at once, and while the announcements cannot be
 * received (`isLive()` false: the LISTEN connection is down) nothing is served from memory and
 * nothing is stored, because a change could go unnoticed.
 *
 * A look-up in flight is shared by concurrent callers and stored as its promise at once: an
 * invalidation that arrives while it runs removes it, so a read that began before a change can
 * never be put back after the change's announcement (the race a "fill after load" cache has).
 *
 * With `staleMs`, `get` serves an expired value for that much longer while one look-up refreshes
 * it in the background: a hot key never waits for Postgres. That is as safe as the TTL itself,
 * because the TTL is not what keeps entries right — announcements drop them at once, stale or
 * not, and a refresh is only stored if its entry was not dropped while it ran.
 */
export interface NotifiedCacheOptions {
  ttlMs: number;
  /** How long after ttlMs `get` still serves a value while refreshing it (default 0: it waits). */
  staleMs?: number;
  /** Oldest entries go first beyond this many. */
  maxEntries: number;
  /** Whether changes are being received right now. */
  isLive: () => boolean;
  now?: () => number;
}

interface Entry<V> {
  value: Promise<V>;
  expires: number;
  /** Set once `value` resolved: a hit is then answered without a further await per key. */
  settled?: { value: V };
  /** A background refresh of this (expired) entry is running. */
  refreshing?: boolean;
}

const noop = () => {};

export class NotifiedCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly now: () => number;

  constructor(private readonly options: NotifiedCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.isLive();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value of `key`, or `load()`'s (then kept for ttlMs). */
  get(key: K, load: () => Promise<V>): Promise<V> {
    if (!this.enabled) return load();
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && hit.expires > now) return hit.value;
    if (hit && this.servesStale(key, hit, now, load)) return hit.value;
    // Promise.resolve: a knex query builder is a thenable that runs its query again on every
    // `then`; the cache must hold the one answer, not the builder.
    const entry: Entry<V> = { value: Promise.resolve(load()), expires: this.now() + this.options.ttlMs };
    this.set(key, entry);
    entry.value.then((value) => (entry.settled = { value }), noop);
    // A failed look-up is not remembered; only this entry is dropped, not a newer one.
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  /**
   * `get`'s answer in this tick when memory holds it (fresh, or stale and then refreshed beside
   * the caller), as `{ value }`; undefined when `get` would wait. Lets the auth hook answer a
   * cached caller without a promise or a tick.
   */
  getNow(key: K, load: () => Promise<V>): { value: V } | undefined {
    if (!this.enabled) return undefined;
    const hit = this.entries.get(key);
    if (!hit?.settled) return undefined;
    const now = this.now();
    if (hit.expires > now || this.servesStale(key, hit, now, load)) return hit.settled;
    return undefined;
  }

  /** Whether the expired `hit` may still be served (refreshing it if so). */
  private servesStale(key: K, hit: Entry<V>, now: number, load: () => Promise<V>): boolean {
    if (!hit.settled || now >= hit.expires + (this.options.staleMs ?? 0)) return false;
    if (!hit.refreshing) this.refresh(key, hit, load);
    return true;
  }

  /**
   * Values for many keys with one `loadMany(missing)` for those not cached; a key `loadMany`
   * leaves out gets `absent` (also cached: "no such row" is a fact too, dropped by the same
   * announcements).
   */
  async getMany(
    keys: readonly K[],
    loadMany: (missing: K[]) => Promise<Map<K, V>>,
    absent: V,
  ): Promise<Map<K, V>> {
    if (!this.enabled) {
      const loaded = await loadMany([...keys]);
      return new Map(keys.map((k) => [k, loaded.get(k) ?? absent]));
    }
    const now = this.now();
    const missing: K[] = [];
    const out = new Map<K, V>();
    const pending = new Map<K, Promise<V>>();
    for (const k of keys) {
      const hit = this.entries.get(k);
      if (hit && hit.expires > now) {
        if (hit.settled) out.set(k, hit.settled.value);
        else pending.set(k, hit.value);
      } else missing.push(k);
    }
    if (missing.length) {
      const batch = Promise.resolve(loadMany(missing));
      for (const k of missing) {
        const entry: Entry<V> = {
          value: batch.then((m) => m.get(k) ?? absent),
          expires: now + this.options.ttlMs,
        };
        this.set(k, entry);
        entry.value.then((value) => (entry.settled = { value }), noop);
        entry.value.catch(() => {
          if (this.entries.get(k) === entry) this.entries.delete(k);
        });
        pending.set(k, entry.value);
      }
    }
    for (const [k, v] of pending) out.set(k, await v);
    return out;
  }

  /**
   * The settled values of all `keys` now, without waiting; undefined when any is missing, still
   * loading or expired (then use getMany). Lets a caller go on in the same tick: an `await` on a
   * settled promise still waits behind every microtask queued before it (a finished HTTP
   * response's teardown, for one).
   */
  peekMany(keys: readonly K[]): Map<K, V> | undefined {
    if (!this.enabled) return undefined;
    const now = this.now();
    const out = new Map<K, V>();
    for (const k of keys) {
      const hit = this.entries.get(k);
      if (!hit?.settled || hit.expires <= now) return undefined;
      out.set(k, hit.settled.value);
    }
    return out;
  }

  /** Loads `key` again beside the callers; stored only if `stale` is still the entry then. */
  private refresh(key: K, stale: Entry<V>, load: () => Promise<V>): void {
    stale.refreshing = true;
    const started = this.now();
    const value = Promise.resolve(load());
    value.then(
      (v) => {
        if (this.entries.get(key) !== stale) return; // dropped by an announcement meanwhile
        this.set(key, { value, expires: started + this.options.ttlMs, settled: { value: v } });
      },
      // Not served any longer: the next caller waits for Postgres and sees its error.
      () => {
        if (this.entries.get(key) === stale) this.entries.delete(key);
      },
    );
  }

  /** Whether `key` is held (tests: to know an announcement was handled). */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private set(key: K, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
