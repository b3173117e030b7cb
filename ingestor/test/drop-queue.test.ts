import { describe, expect, it } from 'vitest';
import { createLogger, parseConfig } from '@rattgllm/core';
import { DropQueue, type DropQueueOptions } from '../src/drop/queue.js';

const log = createLogger(parseConfig({ JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent' }), 'test');
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function queue(over: Partial<DropQueueOptions> & Pick<DropQueueOptions, 'handle'>) {
  return new DropQueue({
    concurrency: 3,
    maxPaths: 1000,
    probe: async () => {},
    requestReconcile: async () => {},
    log,
    retryMinMs: 10,
    retryMaxMs: 40,
    ...over,
  });
}

describe('drop queue', () => {
  it('runs at most `concurrency` paths at once and each queued path once', async () => {
    let running = 0;
    let max = 0;
    const seen: string[] = [];
    const q = queue({
      handle: async (p) => {
        running++;
        max = Math.max(max, running);
        seen.push(p);
        await tick();
        running--;
      },
    });
    for (let i = 0; i < 200; i++) q.add(`f${i % 50}`); // 4 events per path, before any ran
    await q.idle();
    expect(max).toBe(3);
    // The first three started at once; every other path was still waiting when its repeats came.
    expect(seen.length).toBeGreaterThanOrEqual(50);
    expect(new Set(seen).size).toBe(50);
    expect(seen.length).toBeLessThanOrEqual(53);
  });

  it('an event for a running path runs it once more afterwards (the later state is seen)', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const q = queue({
      handle: async (p) => {
        runs.push(p);
        if (runs.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    q.add('a');
    await tick();
    q.add('a');
    q.add('a');
    release();
    await q.idle();
    expect(runs).toEqual(['a', 'a']);
  });

  it('while the dependencies are down it pauses, keeps every path once, and replays them', async () => {
    let up = false;
    const done = new Set<string>();
    let calls = 0;
    const q = queue({
      probe: async () => {
        if (!up) throw new Error('down');
      },
      handle: async (p) => {
        calls++;
        if (!up) throw new Error('connect ECONNREFUSED');
        done.add(p);
      },
    });
    for (let i = 0; i < 20; i++) q.add(`f${i}`);
    await tick(50);
    const s = q.stats();
    expect(s.paused).toBe(true);
    expect(s.held + s.waiting).toBe(20);
    const callsWhileDown = calls;
    for (let i = 0; i < 20; i++) q.add(`f${i}`); // repeats change nothing
    await tick(100);
    expect(calls).toBe(callsWhileDown); // paused: no path is tried while the probe fails
    up = true;
    await q.idle();
    expect(done.size).toBe(20);
    expect(q.stats()).toMatchObject({ held: 0, paused: false, gaveUp: 0 });
  });

  it('a path that fails on its own is retried, then left to the reconcile pass', async () => {
    let tries = 0;
    const q = queue({
      maxAttempts: 3,
      handle: async (p) => {
        if (p === 'bad') {
          tries++;
          throw new Error('broken file');
        }
      },
    });
    q.add('bad');
    q.add('good');
    await q.idle();
    expect(tries).toBe(3);
    expect(q.stats()).toMatchObject({ gaveUp: 1, held: 0, done: 1 });
  });

  it('beyond maxPaths new events are not kept; one reconcile pass is requested instead', async () => {
    let reconciles = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = queue({
      concurrency: 1,
      maxPaths: 100,
      handle: () => gate,
      requestReconcile: async () => {
        reconciles++;
      },
    });
    for (let i = 0; i < 500; i++) q.add(`f${i}`);
    expect(q.stats().waiting).toBe(100);
    release();
    await q.idle();
    expect(reconciles).toBe(1);
    expect(q.stats().overflowed).toBe(false);
  });
});
