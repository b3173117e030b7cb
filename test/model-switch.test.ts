/**
 * Changing the embedding model without downtime (issue #14, item 5): the real ingestor and
 * gateway on one Postgres, the Qdrant stand-in (or a real Qdrant: QDRANT_URL) with aliases.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { DocumentRow } from '@rattgllm/core';
import type {} from '../gateway/src/plugins/app/rag.js';
import { buildApp } from '../gateway/src/build.js';
import type { Ingestor } from '../ingestor/src/main.js';
import { startIngestor } from '../ingestor/src/main.js';
import {
  addUser,
  ingestEnv,
  LONG_TEXT,
  uploadDocument,
  waitFor,
  type IngestEnv,
} from '../ingestor/test/support.js';
import { testConfig } from './support/config.js';
import { ADMIN, bearer, login } from './support/gateway.js';
import { LIVE_OLLAMA } from './standins/index.js';

const NEW_MODEL = {
  EMBED_MODEL: 'all-minilm',
  EMBED_DIM: '384',
  EMBED_DOCUMENT_PREFIX: 'none',
  EMBED_QUERY_PREFIX: 'none',
};
let stopped = false;
const TOPICS = ['zebra', 'quartz', 'violin', 'glacier', 'saffron', 'tundra', 'marble', 'cobalt'];

interface GenerationStatus {
  collection: string;
  model: string;
  state: string;
  serving: boolean;
  done: number;
  total: number;
}
interface IndexStatus {
  mode: string;
  active: string;
  generations: GenerationStatus[];
}

/** Settings the gateway and a second ingestor share with the first ingestor's environment. */
function shared(env: IngestEnv): Record<string, string> {
  const c = env.config;
  return {
    DATABASE_URL: c.DATABASE_URL,
    ...env.qdrant.env,
    ...env.ollama.env,
    QDRANT_COLLECTION: c.QDRANT_COLLECTION,
    S3_BUCKET: c.S3_BUCKET,
    DROP_DIR: env.dropDir,
    EMBED_BATCH_SIZE: '8',
    CHUNK_TOKENS: '120',
  };
}

async function qdrant(env: IngestEnv, path: string, init: RequestInit = {}): Promise<unknown> {
  const key = env.qdrant.env.QDRANT_API_KEY;
  const res = await fetch(`${env.qdrant.url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(key ? { 'api-key': key } : {}) },
  });
  return ((await res.json()) as { result: unknown }).result;
}

/** Who may read a document's points in one collection (payload `principals`, all points alike). */
async function principalsIn(env: IngestEnv, collection: string, documentId: string): Promise<string[][]> {
  const result = (await qdrant(env, `/collections/${collection}/points/scroll`, {
    method: 'POST',
    body: JSON.stringify({
      limit: 100,
      with_payload: ['principals'],
      filter: { must: [{ key: 'document_id', match: { value: documentId } }] },
    }),
  })) as { points: { payload: { principals: string[] } }[] };
  return result.points.map((p) => [...p.payload.principals].sort());
}

function status(app: FastifyInstance, token: string): Promise<IndexStatus> {
  return app.inject({ url: '/admin/index', headers: bearer(token) }).then((r) => {
    if (r.statusCode !== 200) throw new Error(`GET /admin/index: ${r.statusCode} ${r.body}`);
    return r.json() as IndexStatus;
  });
}

async function uploadTopics(
  ingestor: Ingestor,
  owner: string,
  topics: string[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const t of topics)
    ids.set(
      t,
      await uploadDocument(ingestor, {
        ownerId: owner,
        filename: `${t}.txt`,
        content: LONG_TEXT(t, 3),
        access: t === 'cobalt' ? 'private' : 'org',
      }),
    );
  return ids;
}

async function allIndexed(env: IngestEnv, ids: string[]): Promise<DocumentRow[]> {
  return waitFor(
    'documents indexed',
    async () => {
      const rows = await env.db<DocumentRow>('documents').whereIn('id', ids);
      return rows.length === ids.length && rows.every((r) => r.status === 'indexed') ? rows : undefined;
    },
    60_000,
  );
}

// Two embedding models of different sizes in one Ollama: the stand-in serves both; a real Ollama
// would need both pulled, so these run only against the stand-in (Qdrant may be real).
describe.skipIf(LIVE_OLLAMA)('changing the embedding model (needs the Ollama stand-in: two models)', () => {
  const closing: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const close of closing.reverse()) await close().catch(() => {});
  });

  it('search never fails or comes back empty while a new model is re-embedded, switched to and the old one dropped', async () => {
    const env = await ingestEnv({ EMBED_BATCH_SIZE: '8', CHUNK_TOKENS: '120' });
    env.ollama.standin!.dimensions.set('all-minilm:latest', 384);
    env.ollama.standin!.addModel('all-minilm');
    const alice = await addUser(env.db, 'alice');
    await addUser(env.db, 'bob');
    const ingestorA = await env.start({ watch: false, rebuildIntervalMs: 200 });
    const ids = await uploadTopics(ingestorA, alice, TOPICS);
    await allIndexed(env, [...ids.values()]);

    const gatewayA = await buildApp(testConfig(shared(env)));
    closing.push(() => gatewayA.close());
    const admin = await login(gatewayA, ADMIN.username, ADMIN.password);
    const bobToken = await login(gatewayA, 'bob', 'pw-123456');
    const before = await status(gatewayA, admin);
    expect(before.mode).toBe('collection');
    expect(before.generations.map((g) => g.model)).toEqual(['nomic-embed-text']);

    // The operator changes EMBED_MODEL / EMBED_DIM and restarts: the new ingestor first (it turns
    // the plain collection into an alias while the old gateway searches), then a gateway with the
    // new settings beside the old one. Searchers run on both for the whole change: every answer
    // is a 200 with the document.
    const gateways: FastifyInstance[] = [gatewayA];
    const outcomes = { ok: 0, failed: [] as string[] };
    let searching = true;
    closing.push(async () => (stopped = true));
    const searcher = (async () => {
      for (let i = 0; searching && !stopped; i++) {
        const app = gateways[i % gateways.length]!;
        const res = await app.inject({
          method: 'POST',
          url: '/search',
          headers: bearer(bobToken),
          payload: { query: 'zebra team budgets', limit: 5 },
        });
        const files =
          res.statusCode === 200
            ? (res.json() as { results: { filename: string }[] }).results.map((r) => r.filename)
            : [];
        if (files.includes('zebra.txt')) outcomes.ok++;
        else outcomes.failed.push(`${res.statusCode} ${res.body.slice(0, 120)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // A failure below closes the gateways under it: then only the assertion is the news.
    searcher.catch(() => {});

    await ingestorA.stop();
    // The re-embedding is slowed (one small batch at a time, 600 ms per call) so that it is
    // still running while the checks below search, upload, re-share and delete.
    env.ollama.standin!.batchCostMs = 600;
    const configB = testConfig({
      ...shared(env),
      ...NEW_MODEL,
      EMBED_BATCH_SIZE: '2',
      EMBED_CONCURRENCY: '1',
    });
    const ingestorB = await startIngestor(configB, {
      watch: false,
      rebuildIntervalMs: 200,
      pollingIntervalSeconds: 0.5,
    });
    closing.push(() => ingestorB.stop());
    const gatewayB = await buildApp(testConfig({ ...shared(env), ...NEW_MODEL }));
    closing.push(() => gatewayB.close());
    gateways.push(gatewayB);

    const building = await waitFor(
      'a shadow generation',
      async () => {
        const s = await status(gatewayB, admin);
        return s.mode === 'alias' ? s : undefined;
      },
      60_000,
    );
    const oldCollection = building.active;
    const shadow = building.generations.find((g) => g.model === 'all-minilm')!;
    expect(shadow.state).toMatch(/building|ready/);
    expect(oldCollection).toMatch(new RegExp(`^${env.config.QDRANT_COLLECTION}__nomic-embed-text_768_\\d+$`));
    expect(shadow.collection).toMatch(new RegExp(`^${env.config.QDRANT_COLLECTION}__all-minilm_384_\\d+$`));

    // While it runs: an upload is searchable at once (old collection) and reaches the shadow too;
    // a change of access and a delete reach both collections.
    expect((await status(gatewayB, admin)).generations.find((g) => g.model === 'all-minilm')!.state).toBe(
      'building',
    );
    // Admins see it in System status (the qdrant line of /ready).
    const ready1 = (await gatewayB.inject('/ready')).json() as {
      checks: { qdrant: { status: string; reason?: string } };
    };
    expect(ready1.checks.qdrant).toMatchObject({
      status: 'ok',
      reason: expect.stringMatching(
        /^re-embedding with all-minilm: \d+ of \d+ documents; search uses nomic-embed-text until it is complete$/,
      ),
    });
    const [saturn] = (await uploadTopics(ingestorB, alice, ['saturn'])).values();
    await allIndexed(env, [saturn!]);
    const found = await gatewayB.inject({
      method: 'POST',
      url: '/search',
      headers: bearer(bobToken),
      payload: { query: 'saturn', limit: 3 },
    });
    expect(found.json().results.map((r: { filename: string }) => r.filename)).toContain('saturn.txt');
    const aliceToken = await login(gatewayB, 'alice', 'pw-123456');
    const patched = await gatewayB.inject({
      method: 'PATCH',
      url: `/documents/${ids.get('marble')}`,
      headers: bearer(aliceToken),
      payload: { access: 'private' },
    });
    expect(patched.statusCode).toBe(200);
    const deleted = await gatewayB.inject({
      method: 'DELETE',
      url: `/documents/${ids.get('tundra')}`,
      headers: bearer(aliceToken),
    });
    expect(deleted.statusCode).toBeLessThan(300);

    const ready = await waitFor(
      'the shadow ready',
      async () => {
        const s = await status(gatewayB, admin);
        const g = s.generations.find((x) => x.collection === shadow.collection)!;
        return g.state === 'ready' && g.done === g.total ? g : undefined;
      },
      60_000,
    );
    expect(ready.done).toBe(ready.total);
    env.ollama.standin!.batchCostMs = 0;
    expect(ready.total).toBe(TOPICS.length); // 8 − tundra + saturn
    // Until the switch, search embeds its query with the OLD model.
    env.ollama.standin!.embedModels.length = 0;
    await gatewayB.inject({
      method: 'POST',
      url: '/search',
      headers: bearer(bobToken),
      payload: { query: 'quartz' },
    });
    // (The searchers' queries count too: every embedding since is the old model's.)
    expect(new Set(env.ollama.standin!.embedModels)).toEqual(new Set(['nomic-embed-text:latest']));

    // Access is the same in both collections, including the change made during the re-embedding.
    const alicePrivate = [[`user:${alice}`]];
    for (const collection of [oldCollection, shadow.collection]) {
      await waitFor(
        'access rewritten',
        async () => {
          const p = await principalsIn(env, collection, ids.get('marble')!);
          return p.length > 0 && p.every((x) => x.join() === `user:${alice}`);
        },
        60_000,
      );
      const cobalt = await principalsIn(env, collection, ids.get('cobalt')!);
      expect(cobalt.length).toBeGreaterThan(0);
      expect([...new Set(cobalt.map((x) => x.join()))]).toEqual(alicePrivate.map((x) => x.join()));
      await waitFor(
        'delete in both',
        async () => (await principalsIn(env, collection, ids.get('tundra')!)).length === 0,
        60_000,
      );
    }

    // Bad admin input: clear 4xx with a code.
    const post = (url: string, payload: unknown, token = admin) =>
      gatewayB.inject({ method: 'POST', url, headers: bearer(token), payload: payload as object });
    const cases: [Promise<{ statusCode: number; json(): unknown }>, number, string | undefined][] = [
      [post('/admin/index/switch', { collection: 'no_such_collection' }), 404, 'GENERATION_NOT_FOUND'],
      [post('/admin/index/switch', { collection: oldCollection }), 409, 'GENERATION_ACTIVE'],
      [post('/admin/index/switch', { collection: '../etc' }), 400, undefined],
      [post('/admin/index/switch', {}), 400, undefined],
      [post('/admin/index/compare', { queries: [] }), 400, undefined],
      [post('/admin/index/switch', { collection: shadow.collection }, bobToken), 403, undefined],
      [
        gatewayB.inject({
          method: 'DELETE',
          url: `/admin/index/generations/${oldCollection}`,
          headers: bearer(admin),
        }),
        409,
        'GENERATION_ACTIVE',
      ],
    ];
    for (const [res, code, errCode] of cases) {
      const r = await res;
      expect(r.statusCode).toBe(code);
      const body = r.json() as { message: string; code: string };
      expect(body.message.length).toBeGreaterThan(5);
      if (errCode) expect(body.code).toBe(errCode);
    }

    // The two generations side by side on a small labelled set.
    const compared = await post('/admin/index/compare', {
      queries: ['zebra', 'quartz', 'violin', 'saffron'].map((t) => ({
        query: `${t} budgets`,
        relevant: [`${t}.txt`],
      })),
    });
    expect(compared.statusCode).toBe(200);
    const c = compared.json() as {
      baseline: { collection: string; ndcg10: number };
      candidate: { collection: string; ndcg10: number };
    };
    expect(c.baseline.collection).toBe(oldCollection);
    expect(c.candidate.collection).toBe(shadow.collection);
    expect(c.candidate.ndcg10).toBeGreaterThan(0.5);
    expect(c.baseline.ndcg10).toBeGreaterThan(0.5);

    // The switch: one alias update; search follows it (within the 2 s resolution cache).
    const versions = new Map(
      (await env.db<DocumentRow>('documents').whereNot({ status: 'deleted' })).map((d) => [d.id, d.version]),
    );
    const switched = await post('/admin/index/switch', { collection: shadow.collection });
    expect(switched.statusCode).toBe(200);
    expect((switched.json() as IndexStatus).active).toBe(shadow.collection);
    const aliases = (await qdrant(env, '/aliases')) as {
      aliases: { alias_name: string; collection_name: string }[];
    };
    expect(aliases.aliases.filter((a) => a.alias_name === env.config.QDRANT_COLLECTION)).toEqual([
      { alias_name: env.config.QDRANT_COLLECTION, collection_name: shadow.collection },
    ]);
    await new Promise((r) => setTimeout(r, 2_500));
    env.ollama.standin!.embedModels.length = 0;
    for (const app of [gatewayA, gatewayB])
      await app.inject({
        method: 'POST',
        url: '/search',
        headers: bearer(bobToken),
        payload: { query: 'violin' },
      });
    expect(new Set(env.ollama.standin!.embedModels)).toEqual(new Set(['all-minilm:latest']));

    searching = false;
    await searcher;
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(20);
    console.info(`model switch: ${outcomes.ok} searches during the change, none failed or empty`);
    // Nothing was missed and nothing is re-embedded after the switch (the rows took the new
    // generation's signature): the reconcile pass it triggered leaves every document as it was.
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await env.db<DocumentRow>('documents').whereNot({ status: 'deleted' });
    expect(after.every((d) => d.status === 'indexed' && d.version === versions.get(d.id))).toBe(true);

    // The old collection stays until an admin drops it.
    const exists = async (name: string) =>
      ((await qdrant(env, `/collections/${name}/exists`)) as { exists: boolean }).exists;
    expect(await exists(oldCollection)).toBe(true);
    const drop = () =>
      gatewayB.inject({
        method: 'DELETE',
        url: `/admin/index/generations/${oldCollection}`,
        headers: bearer(admin),
      });
    expect((await drop()).statusCode).toBe(204);
    expect(await exists(oldCollection)).toBe(false);
    expect((await drop()).statusCode).toBe(404);
    const res = await gatewayB.inject({
      method: 'POST',
      url: '/search',
      headers: bearer(bobToken),
      payload: { query: 'glacier' },
    });
    expect(res.json().results[0].filename).toBe('glacier.txt');
  }, 120_000);

  it('a restart in the middle of the re-embedding resumes: what was done is not embedded again', async () => {
    const env = await ingestEnv({ EMBED_BATCH_SIZE: '8', CHUNK_TOKENS: '120' });
    const standin = env.ollama.standin!;
    standin.dimensions.set('all-minilm:latest', 384);
    standin.addModel('all-minilm');
    const owner = await addUser(env.db, 'carol');
    const ingestorA = await env.start({ watch: false });
    const topics = Array.from({ length: 12 }, (_, i) => `topic${i}x`);
    const ids = await uploadTopics(ingestorA, owner, topics);
    await allIndexed(env, [...ids.values()]);
    await ingestorA.stop();

    // One document at a time, each embed call slow: the restart lands mid-way.
    standin.batchCostMs = 150;
    const configB = testConfig({
      ...shared(env),
      ...NEW_MODEL,
      INGEST_CONCURRENCY: '1',
      EMBED_BATCH_WAIT_MS: '0',
    });
    const first = await startIngestor(configB, {
      watch: false,
      rebuildIntervalMs: 100,
      pollingIntervalSeconds: 0.5,
    });
    const shadow = await waitFor('a shadow', async () => {
      const row = await env.db('index_generations').where({ state: 'building' }).first();
      return row as { collection: string } | undefined;
    });
    await waitFor('some embedded', async () => {
      const n = await env
        .db('index_generation_documents')
        .where({ collection: shadow.collection })
        .count('* as n');
      return Number(n[0]!.n) >= 3;
    });
    await first.stop();
    const doneBefore = (await env
      .db('index_generation_documents')
      .where({ collection: shadow.collection })
      .select('document_id', 'updated_at')) as { document_id: string; updated_at: Date }[];
    expect(doneBefore.length).toBeLessThan(topics.length);

    standin.batchCostMs = 0;
    const second = await startIngestor(configB, {
      watch: false,
      rebuildIntervalMs: 100,
      pollingIntervalSeconds: 0.5,
    });
    closing.push(() => second.stop());
    await waitFor(
      'ready',
      async () => {
        const row = await env.db('index_generations').where({ collection: shadow.collection }).first();
        return (row as { state: string }).state === 'ready';
      },
      60_000,
    );
    const doneAfter = (await env
      .db('index_generation_documents')
      .where({ collection: shadow.collection })
      .select('document_id', 'updated_at')) as { document_id: string; updated_at: Date }[];
    expect(doneAfter).toHaveLength(topics.length);
    const when = new Map(doneAfter.map((r) => [r.document_id, r.updated_at.getTime()]));
    for (const r of doneBefore) expect(when.get(r.document_id)).toBe(r.updated_at.getTime());
    // Every document's points are in the shadow collection.
    const count = (await qdrant(env, `/collections/${shadow.collection}/points/count`, {
      method: 'POST',
      body: JSON.stringify({ exact: true }),
    })) as { count: number };
    const chunks =
      doneAfter.length &&
      (await env
        .db('index_generation_documents')
        .where({ collection: shadow.collection })
        .sum('chunk_count as n'));
    expect(count.count).toBe(Number((chunks as { n: string }[])[0]!.n));
  }, 120_000);
});
