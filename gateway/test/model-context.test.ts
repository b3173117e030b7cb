import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_OLLAMA, OllamaStandin } from '../../test/standins/index.js';
import { createModelContext } from '../src/lib/model-context.js';

const TTL = 60_000;
const FAILURE_TTL = 10_000;
const SLOW_MS = 400;

/**
 * The chat model's context length: only a model's first turn waits for /api/show; after the TTL
 * the known value is served while a look-up runs in the background (a turn never waits for it),
 * and a failed refresh keeps the known value. The stand-in's faults (slow, failing /api/show)
 * are what is tested, so these skip against a real Ollama (OLLAMA_URL), which cannot be made slow.
 */
describe.skipIf(LIVE_OLLAMA)('model context length: stale-while-revalidate (stand-in faults)', () => {
  let ollama: OllamaStandin;
  beforeAll(async () => {
    ollama = await new OllamaStandin({
      models: ['chat:7b'],
      parameters: { 'chat:7b': { num_ctx: 8192 } },
    }).start();
  });
  afterAll(() => ollama.close());

  function make() {
    let clock = 1_000_000;
    const errors: unknown[] = [];
    const models = createModelContext({
      ollamaUrl: ollama.url,
      defaultLength: 2048,
      ttlMs: TTL,
      failureTtlMs: FAILURE_TTL,
      now: () => clock,
      onError: (_model, err) => errors.push(err),
    });
    return { models, errors, advance: (ms: number) => (clock += ms) };
  }
  const calls = () => ollama.showCalls.filter((m) => m === 'chat:7b').length;
  /** Waits until /api/show was called `n` times and its answer has been taken in. */
  async function untilCalls(n: number) {
    await expect.poll(calls, { timeout: 5000 }).toBe(n);
    await new Promise((r) => setTimeout(r, SLOW_MS + 100));
  }

  it('the first turn waits for /api/show; concurrent first turns share one look-up', async () => {
    ollama.resetFaults();
    const { models } = make();
    const before = calls();
    ollama.faults.slowMs = SLOW_MS;
    const started = performance.now();
    const [a, b] = await Promise.all([models.contextLength('chat:7b'), models.contextLength('chat:7b')]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(SLOW_MS - 20);
    expect([a, b]).toEqual([8192, 8192]);
    expect(calls() - before).toBe(1);
    ollama.resetFaults();
  });

  it('after the TTL the known value is served at once and refreshed in the background', async () => {
    ollama.resetFaults();
    const { models, advance } = make();
    expect(await models.contextLength('chat:7b')).toBe(8192);
    const before = calls();
    // Fresh: no call at all.
    advance(TTL - 1);
    expect(await models.contextLength('chat:7b')).toBe(8192);
    expect(calls()).toBe(before);

    // Stale: the model was re-pulled with another num_ctx, and Ollama is slow to say so.
    ollama.parameters.set('chat:7b', { num_ctx: 4096 });
    ollama.faults.slowMs = SLOW_MS;
    advance(2);
    const started = performance.now();
    const stale = await Promise.all([models.contextLength('chat:7b'), models.contextLength('chat:7b')]);
    expect(performance.now() - started).toBeLessThan(SLOW_MS / 2);
    expect(stale).toEqual([8192, 8192]);
    await untilCalls(before + 1);
    // One refresh for both turns, and the turn after it has the new value.
    expect(await models.contextLength('chat:7b')).toBe(4096);
    expect(calls()).toBe(before + 1);
    ollama.resetFaults();
    ollama.parameters.set('chat:7b', { num_ctx: 8192 });
  });

  it('a failed refresh keeps the known value, is reported, and is retried after failureTtl', async () => {
    ollama.resetFaults();
    const { models, errors, advance } = make();
    expect(await models.contextLength('chat:7b')).toBe(8192);
    const before = calls();
    // The stand-in's fault answers before the route, so a failed call is not in showCalls.
    ollama.failWith(500, 'runner crashed', 1);
    advance(TTL + 1);
    expect(await models.contextLength('chat:7b')).toBe(8192);
    await expect.poll(() => errors.length, { timeout: 5000 }).toBe(1);
    expect(String(errors[0])).toContain('500');
    // Still the known value (not the 2048 default), and not asked again before failureTtl.
    expect(await models.contextLength('chat:7b')).toBe(8192);
    advance(FAILURE_TTL - 1);
    expect(await models.contextLength('chat:7b')).toBe(8192);
    expect(calls()).toBe(before);
    // Then asked again (Ollama is fine now): the value stays right.
    advance(2);
    expect(await models.contextLength('chat:7b')).toBe(8192);
    await untilCalls(before + 1);
    expect(errors).toHaveLength(1);
  });

  it('a model Ollama cannot describe gets the default, then waits for nothing', async () => {
    ollama.resetFaults();
    const { models, errors, advance } = make();
    expect(await models.contextLength('missing:1b')).toBe(2048);
    expect(errors).toHaveLength(1);
    ollama.faults.slowMs = SLOW_MS;
    advance(FAILURE_TTL + 1);
    const started = performance.now();
    expect(await models.contextLength('missing:1b')).toBe(2048);
    expect(performance.now() - started).toBeLessThan(SLOW_MS / 2);
    await expect.poll(() => errors.length, { timeout: 5000 }).toBe(2);
    ollama.resetFaults();
  });
});
