/**
 * /search and chat retrieval with real embeddings (all-MiniLM-L6-v2 through the ONNX embedder),
 * so the assertions test meaning: a paraphrase without a shared word finds its passage. Also the
 * grouping by document, the score floor that keeps strong BM25 hits, and deterministic ties.
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, createVectorIndex, encodeDocument, type Embedder } from '@rattgllm/core';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, login, startGateway } from '../../test/support/gateway.js';
import { startQdrant, uniqueCollectionName } from '../../test/standins/index.js';
import { OnnxEmbedder } from '../../test/standins/onnx-embedder.js';

let onnx: OnnxEmbedder;
let app: FastifyInstance;
let token: string;
let embedder: Embedder;
const ids: Record<string, string> = {};

beforeAll(async () => {
  onnx = await new OnnxEmbedder({ threads: 1 }).start();
  const qdrant = await startQdrant();
  const collection = uniqueCollectionName('meaning');
  app = await startGateway({
    ...qdrant.env,
    OLLAMA_URL: onnx.url,
    EMBED_MODEL: 'all-MiniLM-L6-v2',
    EMBED_DIM: '384',
    EMBED_DOCUMENT_PREFIX: 'none',
    EMBED_QUERY_PREFIX: 'none',
    QDRANT_COLLECTION: collection,
    // Each matching chunk its own passage: grouping and ties as such (the windows that join a
    // document's neighbouring chunks are search-window.test.ts's).
    PASSAGE_WINDOW_TOKENS: '0',
  });
  afterAll(() => qdrant.close());
  token = await login(app, ADMIN.username, ADMIN.password);
  embedder = createEmbedder(app.config);
  const index = createVectorIndex(app.config);
  await index.ensureCollection();
  const add = async (filename: string, chunks: string[]) => {
    const id = randomUUID();
    await app.db('documents').insert({
      id,
      owner_id: null,
      filename,
      mime: 'text/plain; charset=utf-8',
      size: 100,
      sha256: randomBytes(32).toString('hex'),
      storage_key: `documents/${id}`,
      source: 'drop',
      source_path: `/drop/${filename}`,
      access: 'org',
      status: 'indexed',
      chunk_count: chunks.length,
    });
    const dense = await embedder.embedDocuments(chunks);
    await index.upsertChunks(
      id,
      1,
      chunks.map((text, i) => ({ index: i, text, dense: dense[i]!, sparse: encodeDocument(text) })),
      { filename, principals: ['org'] },
    );
    ids[filename] = id;
  };
  await add('cardiology.txt', [
    'Regular aerobic exercise lowers blood pressure in adults with hypertension.',
    'Beta blockers slow the heart rate and reduce the heart’s workload.',
    'Salt restriction reduces systolic blood pressure by a few millimetres of mercury.',
  ]);
  await add('gardening.txt', ['Tomatoes need six hours of sun and deep, infrequent watering.']);
  await add('finance.txt', ['Quarterly revenue grew because subscriptions renewed at a higher rate.']);
  await add('parts.txt', ['Order replacement gasket QX-7731 from the supplier in Lyon.']);
  // Two files with the same text: their scores tie exactly.
  await add('twin-b.txt', ['The library opens at nine on weekdays.']);
  await add('twin-a.txt', ['The library opens at nine on weekdays.']);
}, 120_000);
afterAll(() => onnx.close());

const search = (payload: object) =>
  app.inject({ method: 'POST', url: '/search', headers: bearer(token), payload });

describe('retrieval with real embeddings', () => {
  it('finds a paraphrase that shares no word with its passage', async () => {
    const res = await search({ query: 'How can I grow tomato plants?', limit: 3 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().results[0].filename).toBe('gardening.txt');
    const cardio = await search({ query: 'ways to bring down high arterial tension', limit: 3 });
    expect(cardio.json().results[0].filename).toBe('cardiology.txt');
  });

  it('returns one entry per document with its other matching passages', async () => {
    const res = await search({ query: 'blood pressure heart hypertension', limit: 10 });
    const results = res.json().results as { filename: string; also: { chunkIndex: number }[] }[];
    const names = results.map((r) => r.filename);
    expect(new Set(names).size).toBe(names.length);
    const cardio = results.find((r) => r.filename === 'cardiology.txt')!;
    expect(cardio.also.length).toBeGreaterThanOrEqual(1);
    const passages = await search({
      query: 'blood pressure heart hypertension',
      limit: 10,
      group: 'passage',
    });
    const perPassage = (passages.json().results as { filename: string }[]).filter(
      (r) => r.filename === 'cardiology.txt',
    );
    expect(perPassage.length).toBe(1 + cardio.also.length);
  });

  it('accepts limit up to 100 and refuses 101', async () => {
    expect((await search({ query: 'library', limit: 100 })).statusCode).toBe(200);
    const res = await search({ query: 'library', limit: 101 });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/limit/i);
  });

  it('keeps a strong BM25 hit under the cosine floor, drops weak ones (chat and /search alike)', async () => {
    const identity = {
      principal: { id: randomUUID(), roles: ['user' as const], groups: [] },
      principals: ['org'],
      label: 'test',
    };
    const { passages } = await app.rag.retrieve({ identity, query: 'QX-7731', limit: 6, minScore: 0.95 });
    expect(passages.map((p) => p.filename)).toContain('parts.txt');
    // Nothing else passes: no cosine of 0.95, and no other passage shares a term with the query.
    expect(passages.every((p) => p.filename === 'parts.txt')).toBe(true);
  });

  it('breaks exact ties by file name, the same way every time', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await search({ query: 'When does the library open?', limit: 2 });
      expect(res.json().results.map((r: { filename: string }) => r.filename)).toEqual([
        'twin-a.txt',
        'twin-b.txt',
      ]);
    }
  });
});
