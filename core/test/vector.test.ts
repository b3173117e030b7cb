import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CollectionMismatchError,
  QdrantUnavailableError,
  chunkPointId,
  createVectorIndex,
  encodeDocument,
  encodeQuery,
  isRetryable,
  parseConfig,
  type ChunkPoint,
  type VectorIndex,
} from '@rattgllm/core';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';

// Dense vectors come from the stand-in's lexical embedder directly (no Ollama needed here), so
// ranking is predictable and the same against a live Qdrant.
const DIM = 64;
const qdrant = await startQdrant();

function config(collection: string, dim = DIM) {
  return parseConfig({
    JWT_SECRET: 'test-secret-0123456789',
    ...qdrant.env,
    QDRANT_COLLECTION: collection,
    EMBED_DIM: String(dim),
  });
}

function chunk(index: number, text: string): ChunkPoint {
  return {
    index,
    text,
    page: index + 1,
    heading: `Section ${index}`,
    dense: lexicalEmbedding(text, DIM),
    sparse: encodeDocument(text),
  };
}

const DOC_A = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0001';
const DOC_B = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0002';
const DOC_C = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f0003';

const TEXTS_A = [
  'Travel expenses are reimbursed within 30 days after the receipts are submitted to accounting.',
  'The office kitchen is cleaned every Friday afternoon by the facilities team.',
  'Parking permits for the underground garage are issued by the front desk.',
];
const TEXTS_B = ['Salary bands for engineering are reviewed each spring by the compensation committee.'];
const TEXTS_C = ['Travel expenses for the board are approved by the chair; receipts go to the secretary.'];

let index: VectorIndex;
const collection = uniqueCollectionName('vec');

beforeAll(async () => {
  index = createVectorIndex(config(collection));
  await index.ensureCollection();
  await index.ensureCollection(); // idempotent
});

afterAll(async () => {
  await fetch(`${qdrant.url}/collections/${collection}`, {
    method: 'DELETE',
    headers: qdrant.env.QDRANT_API_KEY ? { 'api-key': qdrant.env.QDRANT_API_KEY } : {},
  });
  await qdrant.close();
});

function search(query: string, principals: string[], limit = 5) {
  return index.hybridSearch({
    dense: lexicalEmbedding(query, DIM),
    sparse: encodeQuery(query),
    principals,
    limit,
  });
}

describe('vector index', () => {
  it('upserts with deterministic ids; a re-upsert gives the same ids and count', async () => {
    const base = { filename: 'handbook.pdf', principals: ['org'] };
    const ids = await index.upsertChunks(
      DOC_A,
      1,
      TEXTS_A.map((t, i) => chunk(i, t)),
      base,
    );
    expect(ids).toEqual(TEXTS_A.map((t, i) => chunkPointId(DOC_A, i, t)));
    expect(new Set(ids).size).toBe(3);
    expect(await index.countDocumentPoints(DOC_A)).toBe(3);
    const again = await index.upsertChunks(
      DOC_A,
      1,
      TEXTS_A.map((t, i) => chunk(i, t)),
      base,
    );
    expect(again).toEqual(ids);
    expect(await index.countDocumentPoints(DOC_A)).toBe(3);
    await index.upsertChunks(
      DOC_B,
      1,
      TEXTS_B.map((t, i) => chunk(i, t)),
      { filename: 'salaries.xlsx', principals: ['group:hr'] },
    );
    await index.upsertChunks(
      DOC_C,
      1,
      TEXTS_C.map((t, i) => chunk(i, t)),
      { filename: 'board.docx', principals: ['user:42'] },
    );
  });

  it('ranks the relevant passage first and returns its payload', async () => {
    const hits = await search('how are travel expenses reimbursed?', ['org']);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]!.payload).toMatchObject({
      document_id: DOC_A,
      chunk_index: 0,
      text: TEXTS_A[0],
      filename: 'handbook.pdf',
      page: 1,
      heading: 'Section 0',
      principals: ['org'],
      version: 1,
    });
    expect(hits[0]!.score).toBeGreaterThan(hits.at(-1)!.score - 1e-9);
    expect(hits[0]!.denseScore).toBeGreaterThan(0.2);
  });

  it('honours the ACL filter: zero leaks', async () => {
    const queries = [
      'travel expenses receipts',
      'salary bands engineering',
      'board chair approval',
      'parking',
    ];
    for (const q of queries) {
      for (const hit of await search(q, ['org'], 10)) expect(hit.payload.principals).toContain('org');
      for (const hit of await search(q, ['user:7', 'group:sales'], 10))
        throw new Error(`leaked ${hit.payload.document_id}`);
    }
    const hr = await search('salary bands engineering', ['org', 'group:hr'], 10);
    expect(hr[0]!.payload.document_id).toBe(DOC_B);
    const owner = await search('board travel expenses chair', ['user:42'], 10);
    expect(owner.map((h) => h.payload.document_id)).toEqual([DOC_C]);
    expect(await search('travel', [], 10)).toEqual([]);
  });

  it('filters by document ids', async () => {
    const hits = await index.hybridSearch({
      dense: lexicalEmbedding('travel expenses', DIM),
      sparse: encodeQuery('travel expenses'),
      principals: ['org', 'user:42'],
      documentIds: [DOC_C],
      limit: 5,
    });
    expect(hits.map((h) => h.payload.document_id)).toEqual([DOC_C]);
  });

  it('rewrites principals without re-embedding', async () => {
    await index.setPrincipals(DOC_B, ['org']);
    const hits = await search('salary bands engineering', ['org'], 10);
    expect(hits[0]!.payload).toMatchObject({ document_id: DOC_B, principals: ['org'] });
    await index.setPrincipals(DOC_B, ['group:hr']);
    expect(
      (await search('salary bands engineering', ['org'], 10)).some((h) => h.payload.document_id === DOC_B),
    ).toBe(false);
  });

  it('a new version replaces the old points; unchanged chunks keep their ids', async () => {
    const v2 = [TEXTS_A[0]!, 'Parking is now managed by an app; the front desk no longer issues permits.'];
    const ids = await index.upsertChunks(
      DOC_A,
      2,
      v2.map((t, i) => chunk(i, t)),
      { filename: 'handbook.pdf', principals: ['org'] },
    );
    expect(ids[0]).toBe(chunkPointId(DOC_A, 0, TEXTS_A[0]!));
    expect(await index.countDocumentPoints(DOC_A)).toBe(2);
    const hits = await search('office kitchen cleaned friday', ['org'], 10);
    expect(hits.some((h) => h.payload.text === TEXTS_A[1])).toBe(false);
    expect(hits.filter((h) => h.payload.document_id === DOC_A).every((h) => h.payload.version === 2)).toBe(
      true,
    );
  });

  it('deletes a document', async () => {
    await index.deleteDocument(DOC_C);
    expect(await index.countDocumentPoints(DOC_C)).toBe(0);
    expect(await search('board chair', ['user:42'], 10)).toEqual([]);
  });

  it('refuses to start on a collection with another dense size', async () => {
    const err = await createVectorIndex(config(collection, 128))
      .ensureCollection()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CollectionMismatchError);
    expect((err as Error).message).toContain(`holds ${DIM}-dimensional vectors but EMBED_DIM is 128`);
  });

  it('says Qdrant refused the connection when it is down (retryable)', async ({ skip }) => {
    const standin = qdrant.standin;
    if (!standin) return skip('fault injection needs the stand-in');
    await standin.setDown(true);
    try {
      const err = await index.countDocumentPoints(DOC_A).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QdrantUnavailableError);
      expect((err as Error).message).toBe(`Qdrant at ${standin.url} refused the connection`);
      expect(isRetryable(err)).toBe(true);
    } finally {
      await standin.setDown(false);
    }
  });

  it('maps Qdrant 5xx to a retryable error and 4xx to a permanent one', async ({ skip }) => {
    const standin = qdrant.standin;
    if (!standin) return skip('fault injection needs the stand-in');
    standin.failWith(500, 'Service internal error: disk full', 1);
    const err = await index.countDocumentPoints(DOC_A).catch((e: unknown) => e);
    expect(isRetryable(err)).toBe(true);
    expect((err as Error).message).toContain('disk full');
    const bad = await index
      .upsertChunks(DOC_A, 3, [{ ...chunk(0, 'x'), dense: [1, 2, 3] }], {
        filename: 'f',
        principals: ['org'],
      })
      .catch((e: unknown) => e);
    expect(isRetryable(bad)).toBe(false);
    expect((bad as Error).message).toContain(`Vector dimension error: expected dim: ${DIM}, got 3`);
  });
});
