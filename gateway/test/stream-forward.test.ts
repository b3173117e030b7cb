/**
 * The chat stream is piped from the upstream (lib/stream-forward.ts): chunks arrive in order and
 * whole, and an upstream that breaks off mid-answer ends the client's stream with an error event
 * (headers are gone) instead of a silent cut, leaving no listener or stream behind.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../../test/support/gateway.js';
import { parseSse, startRag, type RagEnv } from './rag-support.js';
import { TASK_HEADER } from '../src/routes/v1/chat.js';

let upstream: Server;
let breakAfter = Infinity;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 5; i++) {
        if (i === breakAfter) {
          // A crashed model server: the connection drops in the middle of the answer.
          await sleep(20);
          res.socket?.destroy();
          return;
        }
        res.write(
          `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ delta: { content: `t${i}` } }] })}\n\n`,
        );
        await sleep(2);
      }
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

describe('streamed chat forwarding', () => {
  let env: RagEnv;
  beforeAll(async () => {
    env = await startRag({ LLM_BASE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1` });
  });

  const ask = () =>
    env.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...bearer(env.adminToken), [TASK_HEADER]: 'title_generation' },
      payload: { model: 'rattgllm', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });

  it('passes every chunk through in order, then [DONE]', async () => {
    breakAfter = Infinity;
    const res = await ask();
    expect(res.statusCode).toBe(200);
    // The reply is hijacked (written straight to the socket): its headers are written by hand.
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    const timing = String(res.headers['server-timing']);
    expect([...timing.matchAll(/(\w+);dur=(\d+(?:\.\d+)?)(?:, |$)/g)].map((m) => m[1])).toEqual([
      'auth',
      'parse',
      'context',
      'upstream',
    ]);
    const events = parseSse(res.body);
    const contents = events
      .filter((e): e is { choices: { delta: { content: string } }[] } => typeof e === 'object')
      .map((e) => e.choices[0]!.delta.content);
    expect(contents).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(events.at(-1)).toBe('[DONE]');
    expect(env.app.chatStats).toEqual({ listeners: 0, activeStreams: 0 });
  });

  it('an upstream that breaks off mid-answer ends the stream with an error event', async () => {
    breakAfter = 2;
    const res = await ask();
    expect(res.statusCode).toBe(200);
    const events = parseSse(res.body) as Record<string, unknown>[];
    expect(
      events.slice(0, 2).map((e) => (e.choices as { delta: { content: string } }[])[0]!.delta.content),
    ).toEqual(['t0', 't1']);
    const last = events.at(-1) as { error?: { message?: string; type?: string } };
    expect(last.error?.message).toBeTruthy();
    expect(res.body).not.toContain('[DONE]');
    expect(env.app.chatStats).toEqual({ listeners: 0, activeStreams: 0 });
  });
});
