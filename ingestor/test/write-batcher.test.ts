import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chunkPointId,
  createDb,
  createVectorIndex,
  encodeDocument,
  parseConfig,
  type ChunkPoint,
  type DocumentPoints,
  type DocumentRow,
  type Knex,
  type VectorIndex,
} from '@rattgllm/core';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';
import { createTestDatabase } from '../../test/support/db.js';
import { testConfig } from '../../test/support/config.js';
import { Coalescer } from '../src/pipeline/coalesce.js';
import { WriteBatcher } from '../src/pipeline/write-batcher.js';
import type { ChunkRow } from '../src/store.js';

const DIM = 16;
const qdrant = await startQdrant();
const database = await createTestDatabase();
const db: Knex = createDb(testConfig({ DATABASE_URL: database.url }));
afterAll(async () => {
  await db.destroy();
  await database.drop();
  await qdrant.close();
});

/** The real index, recording each upsertDocuments call's documents. */
function recordedIndex(): { index: VectorIndex; calls: string[][] } {
  const config = parseConfig({
    JWT_SECRET: 'test-secret-0123456789',
    ...qdrant.env,
    QDRANT_COLLECTION: uniqueCollectionName('writes'),
    EMBED_DIM: String(DIM),
  });
  const real = createVectorIndex(config);
  const calls: string[][] = [];
  const index: VectorIndex = {
    ...real,
    upsertDocuments: (writes) => {
      calls.push(writes.map((w) => w.documentId));
      return real.upsertDocuments(writes);
    },
  };
  return { index, calls };
}

function points(doc: string, n: number, dim = DIM): ChunkPoint[] {
  return Array.from({ length: n }, (_, i) => {
    const text = `document ${doc} passage ${i}`;
    return { index: i, text, dense: lexicalEmbedding(text, dim), sparse: encodeDocument(text) };
  });
}
const write = (documentId: string, n: number, dim = DIM): DocumentPoints => ({
  documentId,
  version: 1,
  chunks: points(documentId, n, dim),
  base: { filename: `${documentId}.md`, principals: ['org'] },
});

describe('coalescer (pipeline/coalesce.ts)', () => {
  const double = async (xs: number[]) => xs.map((x) => x * 2);

  it('shares requests among items ready together and routes each result back', async () => {
    const sent: number[][] = [];
    const c = new Coalescer<number, number>(
      (xs) => {
        sent.push(xs);
        return double(xs);
      },
      { maxItems: 4, maxWeight: 100, concurrency: 1 },
    );
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => c.run(i)));
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(sent.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(sent.map((s) => s.length)).toEqual([4, 4, 2]);
  });

  it('keeps within maxWeight (a heavy item goes alone) and `concurrency` requests in flight', async () => {
    const sent: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const c = new Coalescer<number, number>(
      async (xs) => {
        sent.push(xs);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
        return double(xs);
      },
      { maxItems: 10, maxWeight: 5, concurrency: 2, weight: (x) => x },
    );
    await Promise.all([1, 2, 9, 1, 1, 3].map((x) => c.run(x)));
    expect(sent).toEqual([[1, 2], [9], [1, 1, 3]]);
    expect(most).toBe(2);
  });

  it('a failed shared request settles nobody: each item is tried alone, only the bad one fails', async () => {
    const sent: number[][] = [];
    const c = new Coalescer<number, number>(
      async (xs) => {
        sent.push(xs);
        if (xs.includes(3)) throw new Error('item 3 is bad');
        return double(xs);
      },
      { maxItems: 8, maxWeight: 100, concurrency: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3, 4].map((x) => c.run(x)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      2,
      4,
      'item 3 is bad',
      8,
    ]);
    expect(sent).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
    expect(c.stats.split).toBe(1);
  });

  it('honours abort: a queued item leaves the queue, a sent one rejects at once', async () => {
    const sent: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = new Coalescer<number, number>(
      async (xs) => {
        sent.push(xs);
        await gate;
        return double(xs);
      },
      { maxItems: 8, maxWeight: 100, concurrency: 1 },
    );
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = c.run(1, inFlight.signal);
    await new Promise((r) => setImmediate(r));
    const second = c.run(2, queued.signal);
    const third = c.run(3);
    queued.abort(new Error('stopped while queued'));
    inFlight.abort(new Error('stopped while sent'));
    await expect(first).rejects.toThrow('stopped while sent');
    await expect(second).rejects.toThrow('stopped while queued');
    release();
    expect(await third).toBe(6);
    expect(sent).toEqual([[1], [3]]);
    const aborted = new AbortController();
    aborted.abort(new Error('already'));
    await expect(c.run(4, aborted.signal)).rejects.toThrow('already');
  });
});

describe('write batcher: Qdrant upserts across documents', () => {
  it("writes several documents' points in shared requests, each durable when its promise resolves", async () => {
    const { index, calls } = recordedIndex();
    await index.ensureCollection();
    const batcher = new WriteBatcher({ maxPoints: 128, maxDocuments: 64, concurrency: 1 });
    const docs = Array.from({ length: 12 }, () => randomUUID());
    const ids = await Promise.all(docs.map((d, i) => batcher.upsert(index, write(d, 1 + (i % 3)))));
    expect(calls.length).toBeLessThan(docs.length);
    expect(calls.flat().sort()).toEqual([...docs].sort());
    for (const [i, d] of docs.entries()) {
      const n = 1 + (i % 3);
      expect(ids[i]).toEqual(
        Array.from({ length: n }, (_, c) => chunkPointId(d, c, `document ${d} passage ${c}`)),
      );
      expect(await index.countDocumentPoints(d)).toBe(n);
    }
    // A new version replaces the old points of its own document only, in a shared request too.
    const [a, b] = docs as [string, string];
    await Promise.all([
      batcher.upsert(index, { ...write(a, 1), version: 2 }),
      batcher.upsert(index, { ...write(b, 1), version: 2, chunks: points(`${b}-new`, 1) }),
    ]);
    expect(await index.countDocumentPoints(a)).toBe(1);
    expect(await index.countDocumentPoints(b)).toBe(1);
    expect(await index.countDocumentPoints(docs[2]!)).toBe(3);
  });

  it('a document whose points Qdrant refuses fails alone; the others of its request are written', async () => {
    const { index, calls } = recordedIndex();
    await index.ensureCollection();
    const batcher = new WriteBatcher({ maxPoints: 128, maxDocuments: 64, concurrency: 1 });
    const [good1, bad, good2] = [randomUUID(), randomUUID(), randomUUID()];
    const results = await Promise.allSettled([
      batcher.upsert(index, write(good1, 2)),
      batcher.upsert(index, write(bad, 2, DIM + 3)), // wrong dimension: a 400 from Qdrant
      batcher.upsert(index, write(good2, 2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls[0]).toEqual([good1, bad, good2]);
    expect(await index.countDocumentPoints(good1)).toBe(2);
    expect(await index.countDocumentPoints(good2)).toBe(2);
    expect(await index.countDocumentPoints(bad)).toBe(0);
  });

  // Fault injection (stopping the service) needs the stand-in; a real Qdrant cannot be stopped here.
  it.skipIf(Boolean(process.env.QDRANT_URL))(
    'Qdrant down mid-batch: no document of the request counts as written (stand-in only: stops the service)',
    async () => {
      const { index } = recordedIndex();
      await index.ensureCollection();
      const batcher = new WriteBatcher({ maxPoints: 128, maxDocuments: 64, concurrency: 1 });
      const docs = [randomUUID(), randomUUID(), randomUUID()];
      await qdrant.standin!.setDown(true);
      try {
        const results = await Promise.allSettled(docs.map((d) => batcher.upsert(index, write(d, 2))));
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      } finally {
        await qdrant.standin!.setDown(false);
      }
      // Once it is back, each document's own retry goes through.
      await Promise.all(docs.map((d) => batcher.upsert(index, write(d, 2))));
      for (const d of docs) expect(await index.countDocumentPoints(d)).toBe(2);
    },
  );
});

describe('write batcher: Postgres reads, starts and commits across documents', () => {
  let owner: string;
  beforeAll(async () => {
    [{ id: owner }] = (await db('users')
      .insert({ username: 'writes-owner', password_hash: 'x', roles: ['user'] })
      .returning('id')) as [{ id: string }];
  });
  async function newDoc(): Promise<string> {
    const id = randomUUID();
    await db('documents').insert({
      id,
      owner_id: owner,
      filename: `${id}.md`,
      mime: 'text/markdown',
      size: 10,
      sha256: id.replaceAll('-', ''),
      storage_key: `documents/${id}/x.md`,
      source: 'upload',
      access: 'private',
    });
    return id;
  }
  const rows = (id: string, n: number, text = 'passage'): ChunkRow[] =>
    Array.from({ length: n }, (_, i) => ({
      index: i,
      text: `${text} ${i} of ${id}`,
      page: null,
      heading: null,
      token_count: 3,
      bm25_length: 2,
      point_id: randomUUID(),
    }));
  const fields = (n: number) => ({
    chunk_count: n,
    version: 1,
    indexed_sha256: 'sha',
    index_signature: 'sig',
    parser: 'markdown',
    warnings: [],
  });
  const row = (id: string) => db<DocumentRow>('documents').where({ id }).first();
  const chunkCount = async (id: string) =>
    Number((await db('chunks').where({ document_id: id }).count({ n: '*' }))[0]!.n);

  it('reads rows and starts runs in shared statements, routing each row back', async () => {
    const batcher = new WriteBatcher();
    const docs = await Promise.all(Array.from({ length: 6 }, () => newDoc()));
    const missing = randomUUID();
    const read = await Promise.all([...docs, missing].map((d) => batcher.read(db, d)));
    expect(read.map((r) => r?.id)).toEqual([...docs, undefined]);
    await Promise.all(docs.map((d) => batcher.start(db, d)));
    for (const d of docs) expect(await row(d)).toMatchObject({ status: 'processing', progress: 0 });
  });

  it('commits several runs in one transaction; a deleted one gets nothing; a failing one fails alone', async () => {
    const batcher = new WriteBatcher();
    const [a, b, gone, bad] = await Promise.all([newDoc(), newDoc(), newDoc(), newDoc()]);
    await db('documents').where({ id: gone }).update({ status: 'deleted' });
    const results = await Promise.allSettled([
      batcher.commit(db, { documentId: a!, chunks: rows(a!, 3), fields: fields(3) }),
      batcher.commit(db, { documentId: b!, chunks: rows(b!, 1), fields: fields(1) }),
      batcher.commit(db, { documentId: gone!, chunks: rows(gone!, 2), fields: fields(2) }),
      // Postgres refuses a NUL character in text: this run's transaction fails.
      batcher.commit(db, { documentId: bad!, chunks: rows(bad!, 1, 'bad\u0000'), fields: fields(1) }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const [ra, rb, rgone] = results as PromiseFulfilledResult<DocumentRow | undefined>[];
    expect(ra!.value?.id).toBe(a);
    expect(rb!.value?.id).toBe(b);
    expect(rgone!.value).toBeUndefined();
    expect(await row(a!)).toMatchObject({ status: 'indexed', chunk_count: 3 });
    expect(await row(b!)).toMatchObject({ status: 'indexed', chunk_count: 1 });
    expect(await chunkCount(a!)).toBe(3);
    expect(await chunkCount(b!)).toBe(1);
    expect(await chunkCount(gone!)).toBe(0);
    expect(await row(bad!)).toMatchObject({ status: 'pending' });
    expect(await chunkCount(bad!)).toBe(0);
    expect(batcher.stats(recordedIndex().index, db).commits).toMatchObject({ split: 1 });

    // A re-run replaces the chunks of its own document only.
    await batcher.commit(db, { documentId: a!, chunks: rows(a!, 2), fields: fields(2) });
    expect(await chunkCount(a!)).toBe(2);
    expect(await chunkCount(b!)).toBe(1);
  });
});
