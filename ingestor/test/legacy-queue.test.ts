import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_REINDEX_QUEUE, encodeQuery, startQueue, type PgBoss } from '@rattgllm/core';
import type { Ingestor } from '../src/main.js';
import { addUser, ingestEnv, LONG_TEXT, uploadDocument, waitFor, type IngestEnv } from './support.js';

/**
 * Jobs an older version queued on the single `reindex` queue (an access change, or the reconcile
 * pass) are still run after the upgrade that split it into `document-access` and `reconcile`.
 */
describe('the legacy reindex queue', () => {
  let env: IngestEnv;
  let ingestor: Ingestor;
  let boss: PgBoss;
  let alice: string;

  beforeAll(async () => {
    env = await ingestEnv();
    alice = await addUser(env.db, 'alice', ['finance']);
    // The queue as the old version made it, before this version's worker starts.
    boss = await startQueue(env.config, { work: false, onError: () => {} });
    await boss.createQueue(LEGACY_REINDEX_QUEUE, { policy: 'stately' });
    ingestor = await env.start();
  });
  afterAll(async () => {
    await boss.stop({ graceful: false, close: true });
  });

  const state = async (id: string | null) =>
    ((await env.db.raw(`select state from pgboss.job where id = ?`, [id])).rows[0] as { state: string })
      ?.state;

  it('drains an old access job ({documentId}) and an old reconcile job ({all})', async () => {
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'old.txt',
      content: LONG_TEXT('tariffs'),
    });
    await waitFor(
      'indexed',
      async () => (await env.db('documents').where({ id }).first())?.status === 'indexed',
    );
    await env.db('documents').where({ id }).update({ access: 'group:finance' });
    const accessJob = await boss.send(LEGACY_REINDEX_QUEUE, { documentId: id }, { singletonKey: id });
    await waitFor('old access job completed', async () => (await state(accessJob)) === 'completed');
    const hits = await ingestor.deps.index.hybridSearch({
      dense: await ingestor.deps.embedder.embedQuery('tariffs'),
      sparse: encodeQuery('tariffs'),
      principals: ['group:finance'],
      limit: 5,
    });
    expect(hits.find((h) => h.payload.document_id === id)?.payload.principals.sort()).toEqual(
      ['group:finance', `user:${alice}`].sort(),
    );

    const reconcileJob = await boss.send(LEGACY_REINDEX_QUEUE, { all: true }, { singletonKey: 'all' });
    expect(reconcileJob).toBeTruthy();
    await waitFor('old reconcile job completed', async () => (await state(reconcileJob)) === 'completed');
  });
});
