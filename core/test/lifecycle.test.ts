import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  JOBS,
  canManage,
  canRead,
  changeAccess,
  createDb,
  createDocument,
  createDocuments,
  markDeleted,
  markIndexed,
  purgeDeleted,
  queueIngest,
  recordRefusal,
  releaseLostJobs,
  failAbandoned,
  ABANDONED_ERROR,
  LOST_WORKER_ERROR,
  scheduleRetry,
  sendInTransaction,
  setProgress,
  setStatus,
  startQueue,
  whereReadable,
  type Access,
  type DocumentRow,
  type Knex,
  type PgBoss,
  type Principal,
} from '@rattgllm/core';
import { createTestDatabase } from '../../test/support/db.js';
import { testConfig } from '../../test/support/config.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Knex;
let boss: PgBoss;
let owner: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: database.url });
  db = createDb(config);
  boss = await startQueue(config, { work: false, onError: () => {} });
  [{ id: owner }] = (await db('users')
    .insert({ username: 'lifecycle-owner', password_hash: 'x', roles: ['user'], groups: ['eng'] })
    .returning('id')) as [{ id: string }];
});
afterAll(async () => {
  await boss.stop({ graceful: false, close: true });
  await db.destroy();
  await database.drop();
});

/** The jobs pg-boss holds for a document, by queue name. */
async function jobsOf(documentId: string): Promise<{ name: string; data: Record<string, unknown> }[]> {
  const r = await db.raw(
    `select name, data from pgboss.job where data->>'documentId' = ? order by created_on`,
    [documentId],
  );
  return r.rows as { name: string; data: Record<string, unknown> }[];
}

const row = (id: string) => db<DocumentRow>('documents').where({ id }).first();

function newDoc(access: Access = 'private', ownerId: string | null = owner) {
  const id = randomUUID();
  return {
    id,
    owner_id: ownerId,
    filename: `${id}.txt`,
    mime: 'text/plain',
    size: 3,
    sha256: id.replaceAll('-', ''),
    storage_key: `documents/${id}/x.txt`,
    source: 'upload' as const,
    access,
  };
}

describe('documents lifecycle (core/src/documents/lifecycle.ts)', () => {
  it('creates a pending document and its ingest job together, or neither', async () => {
    const doc = await createDocument(db, boss, newDoc());
    expect(doc).toMatchObject({ status: 'pending', progress: 0, error: null, owner_id: owner });
    expect(await jobsOf(doc.id)).toEqual([{ name: JOBS.ingest, data: { documentId: doc.id } }]);

    // A failure later in the caller's transaction rolls back the row and the job.
    const failing = newDoc();
    await expect(
      db.transaction(async (trx) => {
        await createDocument(trx, boss, failing);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await row(failing.id)).toBeUndefined();
    expect(await jobsOf(failing.id)).toEqual([]);
  });

  it('creates several documents with their jobs in one go, each row routed back to its caller', async () => {
    const docs = [newDoc(), newDoc('org'), newDoc()];
    const rows = await createDocuments(db, boss, docs);
    expect(rows.map((r) => r.id)).toEqual(docs.map((d) => d.id));
    expect(rows[1]).toMatchObject({ status: 'pending', access: 'org', filename: docs[1]!.filename });
    for (const d of docs)
      expect(await jobsOf(d.id)).toEqual([{ name: JOBS.ingest, data: { documentId: d.id } }]);
    // All or nothing: one row that cannot be written (its id is taken) leaves no row and no job.
    const fresh = newDoc();
    await expect(createDocuments(db, boss, [fresh, { ...newDoc(), id: docs[0]!.id }])).rejects.toThrow();
    expect(await row(fresh.id)).toBeUndefined();
    expect(await jobsOf(fresh.id)).toEqual([]);
  });

  it('walks processing → waiting → processing → indexed, with progress that leaves updated_at', async () => {
    const doc = await createDocument(db, boss, newDoc());
    expect(await setStatus(db, doc.id, { status: 'processing', progress: 0, error: null })).toBe(true);
    const before = (await row(doc.id))!.updated_at;
    await setProgress(db, doc.id, 0.5);
    expect(await row(doc.id)).toMatchObject({ status: 'processing', progress: 0.5, updated_at: before });

    const at = new Date(Date.now() + 60_000);
    await setStatus(db, doc.id, { status: 'waiting', error: 'embedder down', next_attempt_at: at });
    expect(await row(doc.id)).toMatchObject({
      status: 'waiting',
      error: 'embedder down',
      next_attempt_at: at,
    });

    await db.transaction((trx) =>
      markIndexed(trx, [
        {
          id: doc.id,
          fields: {
            chunk_count: 4,
            version: 1,
            indexed_sha256: doc.sha256,
            index_signature: 'sig',
            parser: 'text',
            warnings: [],
          },
        },
      ]),
    );
    const indexed = (await row(doc.id))!;
    expect(indexed).toMatchObject({ status: 'indexed', progress: 1, error: null, next_attempt_at: null });
    expect(indexed.chunk_count).toBe(4);
    expect(indexed.indexed_at).toBeInstanceOf(Date);
  });

  it('re-queues with queueIngest: live rows only, or only from the status asked for', async () => {
    const doc = await createDocument(db, boss, newDoc());
    await setStatus(db, doc.id, { status: 'failed', error: 'corrupt' });
    // Not `indexed`: the self-healing re-queue leaves it alone and sends no job.
    expect(await queueIngest(db, boss, doc.id, { force: true, onlyFrom: 'indexed', reason: 'x' })).toEqual({
      updated: false,
      jobId: null,
    });
    // The ingest job from createDocument is still queued: the new one is absorbed (singleton).
    const again = await queueIngest(db, boss, doc.id, { force: true });
    expect(again.updated).toBe(true);
    expect(await row(doc.id)).toMatchObject({ status: 'pending', progress: 0, error: null });
    expect((await jobsOf(doc.id)).filter((j) => j.name === JOBS.ingest)).toHaveLength(again.jobId ? 2 : 1);
  });

  it('schedules a retry as a delayed job with a waiting row, or pending when a job is queued', async () => {
    const doc = await createDocument(db, boss, newDoc());
    const at = new Date(Date.now() + 3_600_000);
    // A job for the document is queued (from createDocument): the row says pending.
    await scheduleRetry(db, boss, { documentId: doc.id, retry: { attempt: 1, since: 0 } }, at, 'down');
    expect(await row(doc.id)).toMatchObject({ status: 'pending', next_attempt_at: null });

    await db.raw(`delete from pgboss.job where data->>'documentId' = ?`, [doc.id]);
    await scheduleRetry(db, boss, { documentId: doc.id, retry: { attempt: 2, since: 0 } }, at, 'down');
    expect(await row(doc.id)).toMatchObject({
      status: 'waiting',
      next_attempt_at: at,
      error: `down; retry 2 at ${at.toISOString()}`,
    });
    expect(await jobsOf(doc.id)).toEqual([
      { name: JOBS.ingest, data: { documentId: doc.id, retry: { attempt: 2, since: 0 } } },
    ]);
  });

  it('releases documents whose job no worker holds, not a waiting one whose delayed retry is due', async () => {
    const ids = () => releaseLostJobs(db).then((r) => r.filter((id) => mine.includes(id)));
    const [due, later, lost, dead] = await Promise.all(
      [1, 2, 3, 4].map(() => createDocument(db, boss, newDoc())),
    );
    const mine = [due!.id, later!.id, lost!.id, dead!.id];
    await db.raw(`delete from pgboss.job where data->>'documentId' = any(?)`, [mine]);
    // Delayed retries (scheduleRetry): one due a moment ago and not fetched yet, one later.
    const retry = { attempt: 1, since: 0 };
    await scheduleRetry(db, boss, { documentId: due!.id, retry }, new Date(Date.now() - 1000), 'down');
    await scheduleRetry(db, boss, { documentId: later!.id, retry }, new Date(Date.now() + 3_600_000), 'down');
    // `processing` with no job at all (pg-boss already took it back), and `waiting` on an in-place
    // retry whose worker's heartbeat lapsed (a worker that died; its job still reads active).
    await setStatus(db, lost!.id, { status: 'processing' });
    await setStatus(db, dead!.id, { status: 'waiting', error: 'down; retry 1 at …' });
    await sendInTransaction(boss, db, JOBS.ingest, { documentId: dead!.id });
    await db.raw(
      `update pgboss.job set state = 'active', started_on = now() - interval '2 minutes',
              heartbeat_on = now() - interval '1 minute', heartbeat_seconds = 10
        where data->>'documentId' = ?`,
      [dead!.id],
    );
    expect((await ids()).sort()).toEqual([lost!.id, dead!.id].sort());
    expect(await row(due!.id)).toMatchObject({ status: 'waiting' });
    expect(await row(later!.id)).toMatchObject({ status: 'waiting' });
    expect(await row(dead!.id)).toMatchObject({
      status: 'pending',
      error: 'Its worker stopped; waiting for another worker',
    });
    // A live heartbeat keeps the document its worker's.
    await setStatus(db, dead!.id, { status: 'processing' });
    await db.raw(`update pgboss.job set heartbeat_on = now() where data->>'documentId' = ?`, [dead!.id]);
    expect(await ids()).toEqual([]);
  });

  it('a document whose worker died on every attempt is failed, not pending for a worker that never comes', async () => {
    const failed = () => failAbandoned(db).then((r) => r.filter((id) => mine.includes(id)));
    const [spent, retrying, requeued] = await Promise.all(
      [1, 2, 3].map(() => createDocument(db, boss, newDoc())),
    );
    const mine = [spent!.id, retrying!.id, requeued!.id];
    for (const id of mine) await setStatus(db, id, { status: 'pending', error: LOST_WORKER_ERROR });
    const stateOf = (id: string, state: string) =>
      db.raw(`update pgboss.job set state = ? where data->>'documentId' = ?`, [state, id]);
    // pg-boss gave up on one (its last attempt's heartbeat lapsed too), will retry another, and
    // the third was queued again (a reconcile pass) after its job failed.
    await stateOf(spent!.id, 'failed');
    await stateOf(retrying!.id, 'retry');
    await stateOf(requeued!.id, 'failed');
    await sendInTransaction(boss, db, JOBS.ingest, { documentId: requeued!.id });
    expect(await failed()).toEqual([spent!.id]);
    expect(await row(spent!.id)).toMatchObject({ status: 'failed', error: ABANDONED_ERROR });
    expect(await row(retrying!.id)).toMatchObject({ status: 'pending', error: LOST_WORKER_ERROR });
    expect(await row(requeued!.id)).toMatchObject({ status: 'pending', error: LOST_WORKER_ERROR });
    // A new document waiting for its first worker (no error) is never touched.
    const fresh = await createDocument(db, boss, newDoc());
    await stateOf(fresh!.id, 'failed');
    expect(await failed()).toEqual([]);
    expect(await row(fresh!.id)).toMatchObject({ status: 'pending' });
  });

  it('starts and marks indexed several runs in one statement each, each row with its own fields', async () => {
    const docs = await Promise.all([1, 2, 3].map(() => createDocument(db, boss, newDoc())));
    const [a, b, gone] = docs as [DocumentRow, DocumentRow, DocumentRow];
    await markDeleted(db, boss, gone.id);
    expect(
      await setStatus(db, [a.id, b.id, gone.id], { status: 'processing', progress: 0, started: true }),
    ).toBe(true);
    expect(await row(a.id)).toMatchObject({ status: 'processing' });
    expect((await row(b.id))!.processing_started_at).toBeInstanceOf(Date);
    const fields = (d: DocumentRow, n: number) => ({
      chunk_count: n,
      version: n + 10,
      indexed_sha256: d.sha256,
      index_signature: `sig-${n}`,
      parser: n === 1 ? 'text' : null,
      warnings: n === 1 ? [] : [`warning ${n}`, 'with, a comma and "quotes"'],
    });
    await db.transaction((trx) =>
      markIndexed(
        trx,
        docs.map((d, i) => ({ id: d.id, fields: fields(d, i + 1) })),
      ),
    );
    expect(await row(a.id)).toMatchObject({ status: 'indexed', progress: 1, ...fields(a, 1) });
    expect(await row(b.id)).toMatchObject({ status: 'indexed', progress: 1, ...fields(b, 2) });
    // A deleted document is not brought back by a run that finished after its delete.
    expect(await row(gone.id)).toMatchObject({ status: 'deleted', chunk_count: 0 });
  });

  it('changes access with its job; a deleted document gets neither', async () => {
    const doc = await createDocument(db, boss, newDoc('private'));
    const changed = await changeAccess(db, boss, doc.id, { access: 'org', tags: ['a'] });
    expect(changed).toMatchObject({ access: 'org', tags: ['a'] });
    expect((await jobsOf(doc.id)).map((j) => j.name)).toEqual([JOBS.ingest, JOBS.access]);

    expect(await markDeleted(db, boss, doc.id)).toBe(true);
    expect(await changeAccess(db, boss, doc.id, { access: 'private' })).toBeUndefined();
    expect((await row(doc.id))!.access).toBe('org');
  });

  it('marks deleted once (with its delete job); status writes no longer reach it; purge removes it', async () => {
    const doc = await createDocument(db, boss, newDoc());
    expect(await markDeleted(db, boss, doc.id)).toBe(true);
    expect(await markDeleted(db, boss, doc.id)).toBe(false);
    expect((await jobsOf(doc.id)).filter((j) => j.name === JOBS.delete)).toHaveLength(1);
    // A job still running on it cannot bring it back.
    expect(await setStatus(db, doc.id, { status: 'indexed' })).toBe(false);
    expect((await row(doc.id))!.status).toBe('deleted');
    expect(await purgeDeleted(db, doc.id)).toBe(true);
    expect(await row(doc.id)).toBeUndefined();

    // purgeDeleted never removes a live document.
    const live = await createDocument(db, boss, newDoc());
    expect(await purgeDeleted(db, live.id)).toBe(false);
  });

  it('records a refused drop file as a failed row without owner, object or job', async () => {
    const path = `shared/${randomUUID()}.exe`;
    await recordRefusal(db, { filename: 'x.exe', size: 9, source_path: path, error: 'not indexed' });
    const refused = (await db<DocumentRow>('documents').where({ source_path: path }).first())!;
    expect(refused).toMatchObject({ status: 'failed', owner_id: null, storage_key: '', access: 'private' });
    await recordRefusal(db, { filename: 'x.exe', size: 10, source_path: path, error: 'again' }, refused.id);
    expect(await row(refused.id)).toMatchObject({ size: 10, error: 'again' });
    expect(await jobsOf(refused.id)).toEqual([]);
  });
});

describe('the readable rule (core/src/access.ts): SQL and memory agree', () => {
  it('whereReadable returns exactly the live documents canRead allows', async () => {
    const other = (
      (await db('users')
        .insert({ username: 'lifecycle-other', password_hash: 'x', roles: ['user'], groups: [] })
        .returning('id')) as [{ id: string }]
    )[0].id;
    const accesses: Access[] = ['private', 'org', 'group:eng', 'group:ops'];
    const ids: string[] = [];
    for (const ownerId of [owner, other, null])
      for (const access of accesses) ids.push((await createDocument(db, boss, newDoc(access, ownerId))).id);
    const gone = await createDocument(db, boss, newDoc('org', owner));
    await markDeleted(db, boss, gone.id);
    ids.push(gone.id);

    const users: Principal[] = [
      { id: owner, roles: ['user'], groups: ['eng'] },
      { id: other, roles: ['user'], groups: [] },
      { id: randomUUID(), roles: ['user'], groups: ['ops'] },
      { id: randomUUID(), roles: ['admin'], groups: [] },
    ];
    const rows = await db<DocumentRow>('documents').whereIn('id', ids);
    for (const user of users) {
      const sql = (await whereReadable(db<DocumentRow>('documents').whereIn('documents.id', ids), user)).map(
        (r) => r.id,
      );
      const memory = rows
        .filter(
          (r) => r.status !== 'deleted' && canRead(user, { ownerId: r.owner_id, access: r.access as Access }),
        )
        .map((r) => r.id);
      expect(sql.sort()).toEqual(memory.sort());
      expect(sql).not.toContain(gone.id);
    }
    // A private document without an owner is read by admins only.
    const orphanPrivate = rows.find((r) => r.owner_id === null && r.access === 'private')!.id;
    expect(
      (await whereReadable(db('documents').where('documents.id', orphanPrivate), users[3]!)).length,
    ).toBe(1);
    expect(
      (await whereReadable(db('documents').where('documents.id', orphanPrivate), users[0]!)).length,
    ).toBe(0);
  });

  it('canManage: the owner or an admin, never anybody for an ownerless document but admins', () => {
    const user = { id: owner, roles: ['user'], groups: ['eng'] };
    expect(canManage(user, { ownerId: owner })).toBe(true);
    expect(canManage(user, { ownerId: randomUUID() })).toBe(false);
    expect(canManage(user, { ownerId: null })).toBe(false);
    expect(canManage({ id: randomUUID(), roles: ['admin'], groups: [] }, { ownerId: null })).toBe(true);
  });
});
