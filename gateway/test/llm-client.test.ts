import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
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
