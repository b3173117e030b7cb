import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../src/lib/llm.js';

/** A minimal OpenAI-compatible upstream that records the headers it was sent. */
let server: Server;
let baseUrl: string;
const seen: IncomingHttpHeaders[] = [];
let delayMs = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          req.url === '/v1/models'
            ? JSON.stringify({ object: 'list', data: [{ id: 'gpt-x' }] })
            : JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [] }),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('LLM client', () => {
  it('sends LLM_API_KEY as a Bearer token on chat and on the model list', async () => {
    const llm = createLlmClient({ baseUrl, timeoutMs: 5000, apiKey: 'sk-secret-1' });
    try {
      seen.length = 0;
      const res = await llm.chatCompletions({ model: 'gpt-x', messages: [] }, new AbortController().signal);
      await res.body.json();
      expect(await llm.listModels()).toEqual([{ id: 'gpt-x' }]);
      expect(seen.map((h) => h.authorization)).toEqual(['Bearer sk-secret-1', 'Bearer sk-secret-1']);
    } finally {
      await llm.close();
    }
  });

  it('sends no Authorization header without a key (Ollama)', async () => {
    const llm = createLlmClient({ baseUrl, timeoutMs: 5000 });
    try {
      seen.length = 0;
      await llm.listModels();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.authorization).toBeUndefined();
    } finally {
      await llm.close();
    }
  });

  it('gives up after its own timeout with a 504 UPSTREAM_TIMEOUT', async () => {
    const llm = createLlmClient({ baseUrl, timeoutMs: 300 });
    delayMs = 1000;
    try {
      const err = await llm.listModels().catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 504, code: 'UPSTREAM_TIMEOUT' });
    } finally {
      delayMs = 0;
      await llm.close();
    }
  });
});

/** The streamed path (llm-stream.ts): an upstream told per test how to answer. */
describe('LLM client, streamed answers', () => {
  let up: Server;
  let url: string;
  let answer: (res: ServerResponse) => void = () => {};
  let closedEarly = 0;
  beforeAll(async () => {
    up = createServer((req, res) => {
      req.resume();
      res.on('close', () => {
        if (!res.writableFinished) closedEarly++;
      });
      req.on('end', () => answer(res));
    });
    await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(up.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => up.close(() => resolve())));

  /** A response stand-in that takes `everyMs` to accept each chunk (a slow client: backpressure). */
  function sink(everyMs = 0, highWaterMark = 1024) {
    const chunks: string[] = [];
    const out = new Writable({
      highWaterMark,
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        setTimeout(done, everyMs);
      },
    });
    const finished = new Promise<void>((resolve) => out.on('finish', () => resolve()));
    return { out, chunks, finished, text: () => chunks.join('') };
  }
  const body = { model: 'm:1b', stream: true, messages: [] };

  it('writes our prefix, then every byte in order, to a late and slow client, and ends', async () => {
    const parts = Array.from(
      { length: 200 },
      (_, i) => `data: ${String(i).padStart(4, '0')}${'x'.repeat(2000)}\n\n`,
    );
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const p of parts) res.write(p);
      res.end();
    };
    const llm = createLlmClient({ baseUrl: url, timeoutMs: 5000 });
    try {
      const stream = await llm.chatStream(body, new AbortController().signal);
      expect(stream.statusCode).toBe(200);
      // Read late: 400 KB wait meanwhile, more than is buffered before the upstream is paused.
      await new Promise((r) => setTimeout(r, 100));
      const s = sink(1);
      const errors: unknown[] = [];
      stream.forward('data: ours\n\n', s.out, (err) => void errors.push(err));
      await s.finished;
      expect(s.text()).toBe('data: ours\n\n' + parts.join(''));
      expect(errors).toEqual([]);
      // Late, and then taking everything at once (no 'drain' to resume on): resumed all the same.
      const again = await llm.chatStream(body, new AbortController().signal);
      await new Promise((r) => setTimeout(r, 100));
      const roomy = sink(0, 16 * 1024 * 1024);
      again.forward('', roomy.out, (err) => void errors.push(err));
      await roomy.finished;
      expect(roomy.text()).toBe(parts.join(''));
      expect(errors).toEqual([]);
    } finally {
      await llm.close();
    }
  });

  it('maps a refused or failed answer like the JSON path: 404 model, 4xx, 5xx', async () => {
    const llm = createLlmClient({ baseUrl: url, timeoutMs: 5000 });
    const failWith = (status: number, text: string) => (res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    try {
      answer = failWith(
        404,
        JSON.stringify({ error: { message: 'model "m:1b" not found, try pulling it first' } }),
      );
      await expect(llm.chatStream(body, new AbortController().signal)).rejects.toMatchObject({
        statusCode: 404,
        code: 'UPSTREAM_MODEL_NOT_FOUND',
      });
      answer = failWith(400, JSON.stringify({ error: 'temperature must be a number' }));
      await expect(llm.chatStream(body, new AbortController().signal)).rejects.toMatchObject({
        statusCode: 400,
        code: 'UPSTREAM_REJECTED',
        message: 'The LLM server refused the request: temperature must be a number',
      });
      answer = failWith(500, 'x'.repeat(100_000));
      await expect(llm.chatStream(body, new AbortController().signal)).rejects.toMatchObject({
        statusCode: 502,
        code: 'UPSTREAM_ERROR',
      });
    } finally {
      await llm.close();
    }
  });

  it('an upstream that does not answer → 504; one that is down → 502', async () => {
    const llm = createLlmClient({ baseUrl: url, timeoutMs: 300 });
    answer = () => {};
    try {
      await expect(llm.chatStream(body, new AbortController().signal)).rejects.toMatchObject({
        statusCode: 504,
        code: 'UPSTREAM_TIMEOUT',
      });
    } finally {
      await llm.close();
    }
    const down = createLlmClient({ baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: 1000 });
    try {
      await expect(down.chatStream(body, new AbortController().signal)).rejects.toMatchObject({
        statusCode: 502,
        code: 'UPSTREAM_UNAVAILABLE',
      });
    } finally {
      await down.close();
    }
  });

  it("the caller's abort, before or after the headers, stops the upstream request", async () => {
    const llm = createLlmClient({ baseUrl: url, timeoutMs: 5000 });
    const base = closedEarly;
    try {
      const before = new AbortController();
      answer = () => before.abort(new Error('client left early'));
      await expect(llm.chatStream(body, before.signal)).rejects.toThrow('client left early');
      await expect.poll(() => closedEarly - base).toBe(1);

      answer = (res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
      };
      const after = new AbortController();
      const stream = await llm.chatStream(body, after.signal);
      const s = sink();
      const errors: unknown[] = [];
      stream.forward('', s.out, (err) => {
        errors.push(err);
        return 'data: {"error":"stopped"}\n\n';
      });
      await expect.poll(() => s.text()).toBe('data: first\n\n');
      after.abort(new Error('client left'));
      await s.finished;
      expect(String(errors[0])).toContain('client left');
      expect(s.text()).toBe('data: first\n\ndata: {"error":"stopped"}\n\n');
      await expect.poll(() => closedEarly - base).toBe(2);

      // destroy(): the response closed under us.
      const again = await llm.chatStream(body, new AbortController().signal);
      again.forward('', sink().out, () => undefined);
      again.destroy();
      await expect.poll(() => closedEarly - base).toBe(3);
    } finally {
      await llm.close();
    }
  });
});
