/**
 * The ONNX embedder: the model's reference figures (../shared/models README), Ollama's API shape,
 * and the project's own embedder client against it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, parseConfig } from '@rattgllm/core';
import { OnnxEmbedder } from './onnx-embedder.js';

let embedder: OnnxEmbedder;
beforeAll(async () => {
  embedder = await new OnnxEmbedder().start();
});
afterAll(() => embedder.close());

const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${embedder.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('ONNX embedder (all-MiniLM-L6-v2)', () => {
  it('gives the reference vectors: mean pooling over the mask, L2, no padding', async () => {
    const { embeddings } = await embedder.embed([
      'A man is playing a guitar.',
      'Someone plays a guitar.',
      'The stock market fell sharply today.',
    ]);
    const [a, b, c] = embeddings as [number[], number[], number[]];
    expect(a).toHaveLength(384);
    expect(cos(a, a)).toBeCloseTo(1, 5);
    expect(cos(a, b)).toBeCloseTo(0.8504, 3);
    expect(cos(a, c)).toBeCloseTo(-0.054, 3);
    expect(a.slice(0, 4).map((x) => Number(x.toFixed(5)))).toEqual([0.02166, -0.00486, -0.00965, -0.0634]);
    // Batched with a longer text (padding in the batch) or alone: the same vector.
    const alone = (await embedder.embed(['Someone plays a guitar.'])).embeddings[0]!;
    expect(cos(alone, b)).toBeCloseTo(1, 5);
  });

  it('answers /api/show with the real embedding length and context length', async () => {
    const { status, json } = await post('/api/show', { model: 'all-MiniLM-L6-v2' });
    expect(status).toBe(200);
    expect(json.model_info).toMatchObject({ 'bert.embedding_length': 384, 'bert.context_length': 256 });
    expect((await post('/api/show', { model: 'nomic-embed-text' })).status).toBe(404);
    const tags = (await (await fetch(`${embedder.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).toEqual(['all-MiniLM-L6-v2:latest']);
    const version = (await (await fetch(`${embedder.url}/api/version`)).json()) as { version: string };
    expect(version.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('cuts over-long input like Ollama: refused without truncate, counted with it', async () => {
    const long = 'protein folding '.repeat(400);
    const refused = await post('/api/embed', { model: 'all-MiniLM-L6-v2', input: [long], truncate: false });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/context length/);
    const cut = await post('/api/embed', { model: 'all-MiniLM-L6-v2', input: [long, 'short'] });
    expect(cut.status).toBe(200);
    expect(cut.json.prompt_eval_count).toBe(256 + 3);
  });

  it('answers an input that is neither a string nor a list of strings with Ollama’s 400', async () => {
    const res = await post('/api/embed', { model: 'all-MiniLM-L6-v2', input: ['a', 7] });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'invalid input type' });
  });

  it('serves the project’s embedder client: model check, no prefixes, truncation reported', async () => {
    const config = parseConfig({
      JWT_SECRET: 'test-secret-0123456789',
      OLLAMA_URL: embedder.url,
      EMBED_MODEL: 'all-MiniLM-L6-v2',
      EMBED_DIM: '384',
      EMBED_DOCUMENT_PREFIX: 'none',
      EMBED_QUERY_PREFIX: 'none',
    });
    const client = createEmbedder(config);
    await expect(client.checkModel()).resolves.toEqual({
      model: 'all-MiniLM-L6-v2',
      dimension: 384,
      contextLength: 256,
    });
    const cut: number[][] = [];
    const [doc, far, long] = await client.embedDocuments(
      [
        'Vitamin D supplements reduce the risk of fractures in elderly patients.',
        'The stock market fell sharply today.',
        'bone density '.repeat(300),
      ],
      { onTruncated: (i) => cut.push(i) },
    );
    expect(cut).toEqual([[2]]);
    expect(long).toHaveLength(384);
    const query = await client.embedQuery('Does vitamin D prevent fractures in old people?');
    // Meaning, not shared words: the paraphrase is far closer than the unrelated sentence.
    expect(cos(query, doc!)).toBeGreaterThan(0.5);
    expect(cos(query, doc!) - cos(query, far!)).toBeGreaterThan(0.4);
  });
});
