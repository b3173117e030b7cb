import { describe, expect, it } from 'vitest';
import { NotifiedCache } from '../src/lib/cache/notified-cache.js';

function cache(
  opts: {
    live?: () => boolean;
    now?: () => number;
    ttlMs?: number;
    staleMs?: number;
    maxEntries?: number;
  } = {},
) {
  return new NotifiedCache<string, string | undefined>({
    ttlMs: opts.ttlMs ?? 1000,
    ...(opts.staleMs ? { staleMs: opts.staleMs } : {}),
    maxEntries: opts.maxEntries ?? 100,
    isLive: opts.live ?? (() => true),
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/** A load that resolves when told to, counting its calls. */
function deferredLoads() {
  const calls: ((v: string) => void)[] = [];
  const load = () => new Promise<string | undefined>((resolve) => calls.push(resolve));
  return { load, calls };
}

describe('NotifiedCache', () => {
  it('runs a thenable (a knex query builder) once and serves its answer', async () => {
    let runs = 0;
    const builder = { then: (ok: (v: string) => void) => ok(`run ${++runs}`) };
    const c = cache();
    const load = () => builder as unknown as Promise<string>;
    expect(await c.get('k', load)).toBe('run 1');
    expect(await c.get('k', load)).toBe('run 1');
    expect(runs).toBe(1);
  });

  it('shares a look-up in flight, and an invalidation during it is never undone by its answer', async () => {
    const c = cache();
    const { load, calls } = deferredLoads();
    const a = c.get('k', load);
    const b = c.get('k', load);
    expect(calls).toHaveLength(1);
    c.delete('k'); // the row changed while the old read was on its way
    calls[0]!('old');
    expect(await a).toBe('old');
    expect(await b).toBe('old');
    const fresh = c.get('k', load);
    expect(calls).toHaveLength(2);
    calls[1]!('new');
    expect(await fresh).toBe('new');
    expect(await c.get('k', load)).toBe('new');
  });

  it('serves nothing from memory and stores nothing while changes cannot be received', async () => {
    let live = false;
    const c = cache({ live: () => live });
    let n = 0;
    const load = async () => `v${++n}`;
    expect(await c.get('k', load)).toBe('v1');
    expect(await c.get('k', load)).toBe('v2');
    expect(c.size).toBe(0);
    live = true;
    expect(await c.get('k', load)).toBe('v3');
    expect(await c.get('k', load)).toBe('v3');
  });

  it('keeps an entry at most ttlMs, forgets failures, and drops the oldest beyond maxEntries', async () => {
    let t = 0;
    const c = cache({ now: () => t, ttlMs: 100, maxEntries: 2 });
    let n = 0;
    const load = async () => `v${++n}`;
    expect(await c.get('a', load)).toBe('v1');
    t = 99;
    expect(await c.get('a', load)).toBe('v1');
    t = 100;
    expect(await c.get('a', load)).toBe('v2');
    await expect(c.get('b', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await Promise.resolve();
    expect(c.has('b')).toBe(false);
    await c.get('b', load);
    await c.get('c', load);
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([false, true, true]);
  });

  it('getMany loads only the missing keys, in one call, and remembers absent rows', async () => {
    const c = cache();
    const asked: string[][] = [];
    const loadMany = async (keys: string[]) => {
      asked.push(keys);
      return new Map(keys.filter((k) => k !== 'gone').map((k) => [k, `row ${k}`] as const));
    };
    await c.get('a', async () => 'row a (single)');
    const got = await c.getMany(['a', 'b', 'gone'], loadMany, undefined);
    expect(Object.fromEntries(got)).toEqual({ a: 'row a (single)', b: 'row b', gone: undefined });
    expect(asked).toEqual([['b', 'gone']]);
    await c.getMany(['a', 'b', 'gone'], loadMany, undefined);
    expect(asked).toHaveLength(1);
    c.delete('b');
    await c.getMany(['a', 'b'], loadMany, undefined);
    expect(asked).toEqual([['b', 'gone'], ['b']]);
  });

  it('peekMany answers in the same tick only when every key is settled and fresh', async () => {
    let t = 0;
    const c = cache({ now: () => t, ttlMs: 100 });
    const { load, calls } = deferredLoads();
    expect(c.peekMany(['a'])).toBeUndefined();
    const pending = c.get('a', load);
    expect(c.peekMany(['a'])).toBeUndefined(); // still loading
    calls[0]!('row a');
    await pending;
    expect(Object.fromEntries(c.peekMany(['a'])!)).toEqual({ a: 'row a' });
    expect(c.peekMany(['a', 'b'])).toBeUndefined();
    t = 100;
    expect(c.peekMany(['a'])).toBeUndefined(); // expired
  });

  it('staleMs: an expired value is served at once while one look-up refreshes it', async () => {
    let t = 0;
    const c = cache({ now: () => t, ttlMs: 100, staleMs: 1000 });
    const { load, calls } = deferredLoads();
    const first = c.get('k', load);
    calls[0]!('v1');
    expect(await first).toBe('v1');
    t = 150; // stale: served, and refreshed beside the caller
    expect(await c.get('k', load)).toBe('v1');
    expect(await c.get('k', load)).toBe('v1');
    expect(calls).toHaveLength(2);
    calls[1]!('v2');
    await Promise.resolve();
    await Promise.resolve();
    expect(await c.get('k', load)).toBe('v2');
    // Fresh again for ttlMs from when the refresh started.
    t = 249;
    expect(await c.get('k', load)).toBe('v2');
    expect(calls).toHaveLength(2);
    // Beyond ttlMs + staleMs the caller waits, as without staleMs.
    t = 150 + 100 + 1000;
    const waited = c.get('k', load);
    expect(calls).toHaveLength(3);
    calls[2]!('v3');
    expect(await waited).toBe('v3');
  });

  it('staleMs: an announcement during a refresh wins; a failed refresh stops the stale value', async () => {
    let t = 0;
    const c = cache({ now: () => t, ttlMs: 100, staleMs: 1000 });
    const { load, calls } = deferredLoads();
    const first = c.get('k', load);
    calls[0]!('before');
    await first;
    t = 150;
    expect(await c.get('k', load)).toBe('before'); // refresh 1 runs
    c.delete('k'); // the row changed (a disable, say) while that read was on its way
    calls[1]!('read before the change');
    await Promise.resolve();
    await Promise.resolve();
    expect(c.has('k')).toBe(false);
    // The next caller waits for a read made after the change: nothing stale is served.
    const after = c.get('k', load);
    expect(calls).toHaveLength(3);
    calls[2]!('after');
    expect(await after).toBe('after');

    t = 300;
    let fail!: (err: Error) => void;
    expect(await c.get('k', () => new Promise((_, reject) => (fail = reject)))).toBe('after');
    fail(new Error('postgres down'));
    await new Promise((r) => setTimeout(r, 0));
    expect(c.has('k')).toBe(false);
    await expect(c.get('k', () => Promise.reject(new Error('still down')))).rejects.toThrow('still down');
  });

  it('getNow answers in this tick exactly when get would answer from memory', async () => {
    let t = 0;
    let live = true;
    const c = cache({ now: () => t, ttlMs: 100, staleMs: 1000, live: () => live });
    const { load, calls } = deferredLoads();
    expect(c.getNow('k', load)).toBeUndefined();
    expect(calls).toHaveLength(0); // it never loads on a miss: the caller then uses get
    const first = c.get('k', load);
    expect(c.getNow('k', load)).toBeUndefined(); // still loading
    calls[0]!('v1');
    await first;
    expect(c.getNow('k', load)).toEqual({ value: 'v1' });
    t = 150; // stale: served, and one refresh starts
    expect(c.getNow('k', load)).toEqual({ value: 'v1' });
    expect(c.getNow('k', load)).toEqual({ value: 'v1' });
    expect(calls).toHaveLength(2);
    c.delete('k'); // announced
    expect(c.getNow('k', load)).toBeUndefined();
    const again = c.get('k', load);
    calls[2]!('v2');
    await again;
    live = false; // announcements cannot arrive: nothing from memory
    expect(c.getNow('k', load)).toBeUndefined();
    live = true;
    t = 150 + 100 + 1000; // beyond the stale window
    expect(c.getNow('k', load)).toBeUndefined();
  });
});
