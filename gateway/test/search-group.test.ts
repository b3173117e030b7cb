/**
 * /search grouped by document returns `limit` documents even when one document has far more
 * matching passages than the search over-fetches (issue #14: 416 of 1,380 COVID-QA questions got
 * fewer than 10), and never one the asker may not read: not through the Qdrant principals
 * filter (private documents) and not through the Postgres re-check (stale index payloads).
 * Stand-ins, or live services with QDRANT_URL / OLLAMA_URL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser } from '../../test/support/gateway.js';
import { startRag, type RagEnv } from './rag-support.js';

interface Result {
  documentId: string;
  filename: string;
  text: string;
  also?: { text: string; chunkIndex: number }[];
}

describe('POST /search: limit documents, however many passages one of them matches', () => {
  let env: RagEnv;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  const readable = new Set<string>();
  const hidden = new Set<string>();
  let handbook = '';
  const step = (i: number, extra = '') =>
    `Solar panel cleaning, solar panel cleaning: step ${i} of the solar panel cleaning routine.${extra}`;

  const search = async (token: string, payload: object): Promise<Result[]> => {
    const res = await env.app.inject({ method: 'POST', url: '/search', headers: bearer(token), payload });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { results: Result[] }).results;
  };

  beforeAll(async () => {
    env = await startRag({ PASSAGE_WINDOW_TOKENS: '0' });
    alice = await createUser(env.app, env.adminToken, { username: 'alice', groups: ['eng'] });
    bob = await createUser(env.app, env.adminToken, { username: 'bob', groups: ['sales'] });
    // 60 passages that match the question better than any other document's: more than the
    // 4 × limit passages the search fetches for 10 documents.
    handbook = await env.addDocument({
      ownerId: null,
      access: 'org',
      filename: 'solar-handbook.txt',
      chunks: Array.from({ length: 60 }, (_, i) => step(i)),
    });
    readable.add(handbook);
    for (let n = 0; n < 12; n++)
      readable.add(
        await env.addDocument({
          ownerId: null,
          access: 'org',
          filename: `roof-notes-${n}.txt`,
          chunks: [`Roof notes ${n}: the solar panel on the garage needs cleaning after the pollen season.`],
        }),
      );
    // Alice's private documents, matching as well as the handbook: bob's Qdrant filter excludes them.
    for (let n = 0; n < 3; n++)
      hidden.add(
        await env.addDocument({
          ownerId: alice.id,
          access: 'private',
          filename: `alice-solar-${n}.txt`,
          chunks: Array.from({ length: 20 }, (_, i) => step(i, ` Alice ${n}.`)),
        }),
      );
    // Private in Postgres but `org` in a stale Qdrant payload: Qdrant returns them to bob, the
    // Postgres re-check refuses them, and the search must look further for bob's 10 documents.
    for (let n = 0; n < 8; n++)
      hidden.add(
        await env.addDocument({
          ownerId: alice.id,
          access: 'private',
          filename: `stale-solar-${n}.txt`,
          stalePrincipals: ['org'],
          chunks: [step(n, ` Stale ${n}.`), step(n + 1, ` Stale ${n}.`)],
        }),
      );
  });

  it('returns `limit` distinct documents, the long one with its other passages in `also`', async () => {
    for (const limit of [5, 10]) {
      const results = await search(bob.token, { query: 'solar panel cleaning', limit });
      const docs = results.map((r) => r.documentId);
      expect(docs, `limit ${limit}`).toHaveLength(limit);
      expect(new Set(docs).size, `limit ${limit}`).toBe(limit);
      expect(
        docs.every((d) => readable.has(d)),
        `limit ${limit}`,
      ).toBe(true);
    }
    const results = await search(bob.token, { query: 'solar panel cleaning', limit: 10 });
    const long = results.find((r) => r.documentId === handbook);
    expect(long, 'the handbook is among them').toBeDefined();
    expect(long!.also?.length).toBeGreaterThan(0);
    // Its other passages are its own (hidden documents' passages say whose they are).
    expect(long!.also!.every((a) => /^Solar panel cleaning.*routine\.$/.test(a.text))).toBe(true);
  });

  it('asking for more documents than bob may read returns exactly those he may read', async () => {
    const results = await search(bob.token, { query: 'solar panel cleaning', limit: 50 });
    expect(new Set(results.map((r) => r.documentId))).toEqual(readable);
    expect(results).toHaveLength(readable.size);
  });

  it('the owner gets her private documents among hers, still `limit` distinct ones', async () => {
    const results = await search(alice.token, { query: 'solar panel cleaning', limit: 10 });
    const docs = results.map((r) => r.documentId);
    expect(new Set(docs).size).toBe(10);
    expect(docs.some((d) => hidden.has(d))).toBe(true);
  });

  it('never a document bob may not read, in results or `also`', async () => {
    for (const limit of [3, 10, 20, 50]) {
      const results = await search(bob.token, { query: 'solar panel cleaning stale alice', limit });
      expect(
        results.filter((r) => hidden.has(r.documentId)),
        `limit ${limit}`,
      ).toEqual([]);
      const texts = results.flatMap((r) => [r.text, ...(r.also ?? []).map((a) => a.text)]);
      expect(
        texts.filter((t) => /Alice|Stale/.test(t)),
        `limit ${limit}`,
      ).toEqual([]);
      expect(results, `limit ${limit}`).toHaveLength(Math.min(limit, readable.size));
    }
  });
});

describe('passages folded into a better passage’s window leave room for the next hits', () => {
  let env: RagEnv;
  const guide = [
    'Kayak paddling stroke: keep the kayak paddle blade vertical in the water.',
    'Kayak paddling stroke: rotate the torso, not the arms, with the kayak paddle.',
    'Kayak paddling stroke: the kayak paddle enters the water by the feet.',
    'Kayak paddling stroke: pull the kayak paddle out at the hip.',
  ];

  beforeAll(async () => {
    env = await startRag({ PASSAGE_WINDOW_TOKENS: '768' });
    // One section of four matching chunks: their hits join into one window.
    await env.addDocument({
      ownerId: null,
      access: 'org',
      filename: 'kayak-guide.txt',
      chunks: guide,
      headings: guide.map(() => 'Strokes'),
    });
    for (let n = 0; n < 6; n++)
      await env.addDocument({
        ownerId: null,
        access: 'org',
        filename: `trip-${n}.txt`,
        chunks: [`Trip ${n}: we practised the kayak paddling stroke on the lake.`],
      });
  });

  it('`limit` passages (group passage), none repeating text', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/search',
      headers: bearer(env.adminToken),
      payload: { query: 'kayak paddling stroke paddle', group: 'passage', limit: 4 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const results = (res.json() as { results: Result[] }).results;
    expect(results).toHaveLength(4);
    // Each chunk's text shows once at most, across all windows.
    for (const s of [...guide, ...Array.from({ length: 6 }, (_, n) => `Trip ${n}:`)])
      expect(results.filter((r) => r.text.includes(s)).length, s).toBeLessThanOrEqual(1);
  });
});
