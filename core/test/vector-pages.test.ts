import { afterAll, describe, expect, it } from 'vitest';
import { createVectorIndex, encodeDocument, encodeQuery, parseConfig } from '@rattgllm/core';
import { lexicalEmbedding, startQdrant, uniqueCollectionName } from '../../test/standins/index.js';

// A passage that runs over a page break keeps both ends, so it can be shown as "pages 1–2".
const DIM = 64;
const qdrant = await startQdrant();
const collection = uniqueCollectionName('pages');
const index = createVectorIndex(
  parseConfig({
    JWT_SECRET: 'test-secret-0123456789',
    ...qdrant.env,
    QDRANT_COLLECTION: collection,
    EMBED_DIM: String(DIM),
  }),
);

afterAll(async () => {
  await fetch(`${qdrant.url}/collections/${collection}`, {
    method: 'DELETE',
    headers: qdrant.env.QDRANT_API_KEY ? { 'api-key': qdrant.env.QDRANT_API_KEY } : {},
  });
  await qdrant.close();
});

describe('page ranges in the index', () => {
  it('stores page_end and the page breaks only on passages that span pages', async () => {
    await index.ensureCollection();
    const doc = '6a1f8f5e-0f35-4c7e-9a59-0d7b9b7f00aa';
    const texts = [
      'Holiday policy starts here and runs over the page break.',
      'Parking rules fit on one page.',
    ];
    await index.upsertChunks(
      doc,
      1,
      texts.map((text, i) => ({
        index: i,
        text,
        page: i === 0 ? 1 : 3,
        pageEnd: i === 0 ? 2 : 3,
        ...(i === 0 ? { pageBreaks: [[30, 2]] as [number, number][] } : {}),
        heading: null,
        dense: lexicalEmbedding(text, DIM),
        sparse: encodeDocument(text),
      })),
      { filename: 'handbook.pdf', principals: ['org'] },
    );
    const hits = await index.hybridSearch({
      dense: lexicalEmbedding('holiday policy parking', DIM),
      sparse: encodeQuery('holiday policy parking'),
      principals: ['org'],
      limit: 5,
    });
    const byIndex = new Map(hits.map((h) => [h.payload.chunk_index, h.payload]));
    expect(byIndex.get(0)).toMatchObject({ page: 1, page_end: 2, page_breaks: [[30, 2]] });
    expect(byIndex.get(1)!.page).toBe(3);
    expect(byIndex.get(1)).not.toHaveProperty('page_end');
    expect(byIndex.get(1)).not.toHaveProperty('page_breaks');
  });
});
