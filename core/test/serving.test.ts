/**
 * The active generation's look-up (serving.ts): requests that find it expired share one look-up.
 * Stand-in Qdrant, or a live one (QDRANT_URL); real Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createServing, createVectorIndex, parseConfig, type Knex } from '@rattgllm/core';
import { startQdrant, uniqueCollectionName } from '../../test/standins/index.js';
import { createTestDatabase } from '../../test/support/db.js';

const qdrant = await startQdrant();
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Knex;
const config = () =>
  parseConfig({
    JWT_SECRET: 'test-secret-0123456789',
    ...qdrant.env,
    DATABASE_URL: database.url,
    QDRANT_COLLECTION: uniqueCollectionName('serving'),
    EMBED_DIM: '8',
  });

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(config());
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
  await qdrant.close();
});

describe('the active generation', () => {
  it('is looked up once for all the requests that find it expired, and again after invalidate', async () => {
    const cfg = config();
    await createVectorIndex(cfg).ensureCollection();
    // Each look-up asks Postgres which model built the collection: count those reads.
    let lookUps = 0;
    const onQuery = (q: { sql: string }) => {
      if (q.sql.includes('index_generations')) lookUps++;
    };
    db.on('query', onQuery);
    try {
      // What one look-up reads (one request alone), then 40 at once on a fresh instance.
      await createServing({ db, config: cfg }).active();
      const per = lookUps;
      expect(per).toBeGreaterThan(0);
      lookUps = 0;
      const serving = createServing({ db, config: cfg, ttlMs: 50 });
      const first = await Promise.all(Array.from({ length: 40 }, () => serving.active()));
      expect(lookUps).toBe(per);
      expect(new Set(first.map((s) => s.generation.collection))).toEqual(new Set([cfg.QDRANT_COLLECTION]));
      await serving.active(); // within ttlMs: no look-up
      expect(lookUps).toBe(per);
      await new Promise((r) => setTimeout(r, 80));
      await Promise.all(Array.from({ length: 40 }, () => serving.active()));
      expect(lookUps).toBe(2 * per);
      // invalidate (a collection found missing) forgets it at once, even within ttlMs.
      serving.invalidate();
      await serving.active();
      expect(lookUps).toBe(3 * per);
    } finally {
      db.off('query', onQuery);
    }
  });
});
