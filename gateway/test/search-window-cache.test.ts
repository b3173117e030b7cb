/**
 * Passage windows from memory (lib/cache/window-cache.ts): a question asked again widens its
 * passages without another Qdrant fetch, and a change to the document — announced by Postgres,
 * whichever process made it — drops its chunks, so the next window shows the new text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { encodeDocument } from '@rattgllm/core';
import { LIVE_QDRANT, lexicalEmbedding } from '../../test/standins/index.js';
import { bearer, createUser } from '../../test/support/gateway.js';
import { estimateTokens } from '../src/retrieval/context.js';
import type {} from '../src/plugins/app/caches.js';
import { DIM, startRag, type RagEnv } from './rag-support.js';
import { SURVEY, chunksOf } from './window-fixture.js';

const S = SURVEY.slice(0, 6);
/** Chunk 2 (S2 S3) grows to chunk 3, then chunk 1. */
const WINDOW = S.slice(1, 5).join(' ');
const QUERY = 'capybara numbers river delta dormice nested oak hedges';

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('passage windows from memory', () => {
  let env: RagEnv;
  let bob: { token: string };
  let docId: string;
  /** A second connection, as the ingestor would write: only NOTIFY tells the gateway. */
  let other: pg.Client;

  const best = async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/search',
      headers: bearer(bob.token),
      payload: { query: QUERY, group: 'passage', limit: 1 },
    });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().results as { text: string; chunkIndex: number }[])[0]!;
  };
  const scrolls = () => env.qdrant.standin?.log.filter((e) => e.path.endsWith('/points/scroll')).length;

  beforeAll(async () => {
    env = await startRag({ PASSAGE_WINDOW_TOKENS: String(estimateTokens(WINDOW)) });
    await env.app.caches.ready;
    const alice = await createUser(env.app, env.adminToken, { username: 'alice', groups: ['eng'] });
    bob = await createUser(env.app, env.adminToken, { username: 'bob', groups: ['sales'] });
    docId = await env.addDocument({
      ownerId: alice.id,
      access: 'org',
      filename: 'report.txt',
      chunks: chunksOf(S),
      headings: chunksOf(S).map(() => 'Results'),
    });
    other = new pg.Client({ connectionString: env.app.config.DATABASE_URL });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
  });

  it('a question asked again is widened from memory', async () => {
    expect(await best()).toMatchObject({ chunkIndex: 2, text: WINDOW });
    expect(env.app.caches.windows.has(docId)).toBe(true);
    expect(await best()).toMatchObject({ chunkIndex: 2, text: WINDOW });
  });

  it.skipIf(LIVE_QDRANT)('...without a Qdrant fetch (the stand-in saw none)', async () => {
    const before = scrolls()!;
    await best();
    await best();
    expect(scrolls()).toBe(before);
  });

  it('a change to the document drops its chunks: the next window shows the new text', async () => {
    expect((await best()).text).toBe(WINDOW);
    // Chunk 3 rewritten in place (same version: a re-run of the same indexing), announced the
    // way the ingestor's status updates announce it.
    const changed = [...S.slice(0, 4), 'Otters returned to the dormice hedges.', S[5]!];
    const chunks = chunksOf(changed);
    await env.index.upsertChunks(
      docId,
      1,
      chunks.map((text, index) => ({
        index,
        text,
        page: index + 1,
        heading: 'Results',
        dense: lexicalEmbedding(text, DIM),
        sparse: encodeDocument(text),
      })),
      { filename: 'report.txt', principals: ['org'] },
    );
    await other.query(`update documents set status = 'processing' where id = $1`, [docId]);
    await other.query(`update documents set status = 'indexed' where id = $1`, [docId]);
    await waitFor(() => !env.app.caches.windows.has(docId));
    const now = await best();
    expect(now.text).toContain('Otters returned to the dormice hedges.');
    expect(now.text).not.toContain(S[4]);
  });
});
