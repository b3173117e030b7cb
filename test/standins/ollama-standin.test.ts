import { afterAll, describe, expect, it } from 'vitest';
import { lexicalEmbedding, startOllama } from './index.js';

const ollama = await startOllama({ dimension: 32 });
afterAll(() => ollama.close());
const post = (path: string, body: unknown) =>
  fetch(`${ollama.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('Ollama API (stand-in or live)', () => {
  it('/api/embed accepts a string or an array and answers with Ollama’s fields', async () => {
    const res = await post('/api/embed', { model: 'nomic-embed-text', input: 'hello world' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(
      expect.arrayContaining(['model', 'embeddings', 'total_duration', 'load_duration', 'prompt_eval_count']),
    );
    expect(body.embeddings as number[][]).toHaveLength(1);
    const two = (await (
      await post('/api/embed', { model: 'nomic-embed-text', input: ['a b', 'c d'] })
    ).json()) as { embeddings: number[][] };
    expect(two.embeddings).toHaveLength(2);
  });

  it('answers an input that is neither a string nor a list of strings with Ollama’s 400', async () => {
    for (const input of [42, ['a', 7], { text: 'a' }]) {
      const res = await post('/api/embed', { model: 'nomic-embed-text', input });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid input type' });
    }
  });

  it('answers a missing model with Ollama’s 404 body', async () => {
    const res = await post('/api/embed', { model: 'no-such-model', input: 'x' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'model "no-such-model" not found, try pulling it first' });
    const show = await post('/api/show', { model: 'no-such-model' });
    expect(show.status).toBe(404);
    expect(await show.json()).toEqual({ error: "model 'no-such-model' not found" });
  });

  it('/api/show reports the context fields the gateway budgets with', async () => {
    const res = await post('/api/show', { model: 'llama3.1:8b' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { parameters: string; model_info: Record<string, unknown> };
    const arch = body.model_info['general.architecture'] as string;
    expect(arch).toBe('llama');
    // llama3.1 was trained for 128k tokens; what Ollama runs it with is num_ctx or its default.
    expect(body.model_info[`${arch}.context_length`]).toBe(131072);
    expect(typeof body.parameters).toBe('string');
    expect(body.parameters).not.toMatch(/^num_ctx/m);
  });

  it('lists models on /api/tags and /v1/models and reports a version', async () => {
    const tags = (await (await fetch(`${ollama.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).toContain('nomic-embed-text:latest');
    const v1 = (await (await fetch(`${ollama.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string; object: string }[];
    };
    expect(v1.object).toBe('list');
    expect(v1.data.some((m) => m.id === 'nomic-embed-text:latest' && m.object === 'model')).toBe(true);
    expect(
      ((await (await fetch(`${ollama.url}/api/version`)).json()) as { version: string }).version,
    ).toMatch(/^\d+\.\d+/);
  });
});

describe.skipIf(!ollama.standin)('Ollama stand-in behaviour', () => {
  const s = ollama.standin!;

  it('streams chat as SSE chunks ending with [DONE], and answers non-stream with chat.completion', async () => {
    s.chat = { tokens: ['Hel', 'lo'], intervalMs: 1 };
    const res = await post('/v1/chat/completions', {
      model: 'llama3.1:8b',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const lines = (await res.text()).split('\n\n').filter(Boolean);
    expect(lines.at(-1)).toBe('data: [DONE]');
    const chunks = lines.slice(0, -1).map(
      (l) =>
        JSON.parse(l.slice(6)) as {
          object: string;
          choices: { delta: { content: string }; finish_reason: string | null }[];
        },
    );
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]!.delta.content).join('')).toBe('Hello');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    const full = (await (
      await post('/v1/chat/completions', {
        model: 'llama3.1:8b',
        messages: [{ role: 'user', content: 'hi' }],
      })
    ).json()) as {
      object: string;
      choices: { message: { content: string } }[];
    };
    expect(full.object).toBe('chat.completion');
    expect(full.choices[0]!.message.content).toBe('Hello');
    expect(s.chatRequests).toHaveLength(2);
    const missing = await post('/v1/chat/completions', {
      model: 'nope',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe(
      'model "nope" not found, try pulling it first',
    );
  });

  it('pulls a model with streamed NDJSON status lines', async () => {
    s.removeModel('all-minilm');
    const res = await post('/api/pull', { model: 'all-minilm' });
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string });
    expect(lines[0]!.status).toBe('pulling manifest');
    expect(lines.at(-1)!.status).toBe('success');
    expect(s.hasModel('all-minilm')).toBe(true);
  });

  it('embeds lexically: the passage sharing the query’s words is closest', () => {
    const q = lexicalEmbedding('search_query: reimbursing travel expenses', 256);
    const docs = ['Travel expenses are reimbursed monthly.', 'The kitchen is cleaned on Fridays.'].map((d) =>
      lexicalEmbedding(d, 256),
    );
    const cos = docs.map((d) => d.reduce((sum, x, i) => sum + x * q[i]!, 0));
    expect(cos[0]!).toBeGreaterThan(cos[1]! + 0.2);
  });

  it('counts calls, inputs and serial device time (fixed cost per batch)', async () => {
    const before = { ...s.counters };
    s.batchCostMs = 20;
    const t0 = performance.now();
    await Promise.all(
      [1, 2, 3].map(() => post('/api/embed', { model: 'nomic-embed-text', input: ['a', 'b'] })),
    );
    s.batchCostMs = 0;
    expect(s.counters.embedCalls - before.embedCalls).toBe(3);
    expect(s.counters.embedInputs - before.embedInputs).toBe(6);
    expect(s.counters.busyMs - before.busyMs).toBeGreaterThanOrEqual(59);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(59); // one device: batches queue
  });
});
