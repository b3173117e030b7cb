import { rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeQuery, JOBS, sendInTransaction, type DocumentRow } from '@rattgllm/core';
import type { Ingestor } from '../src/main.js';
import {
  addUser,
  ingestEnv,
  LONG_TEXT,
  uploadDocument,
  waitFor,
  writeDropFile,
  type IngestEnv,
} from './support.js';

/** A documents row, as the tests read it. */
type Doc = DocumentRow;

describe('ingestor', () => {
  let env: IngestEnv;
  let ingestor: Ingestor;
  let alice: string;

  const doc = (where: Record<string, unknown>) => env.db<Doc>('documents').where(where).first();
  const indexed = (where: Record<string, unknown>) =>
    waitFor(`indexed ${JSON.stringify(where)}`, async () => {
      const d = await doc(where);
      if (d?.status === 'failed') throw new Error(`failed: ${d.error}`);
      return d?.status === 'indexed' ? d : undefined;
    });
  const search = async (text: string, principals: string[]) => {
    const hits = await ingestor.deps.index.hybridSearch({
      dense: await ingestor.deps.embedder.embedQuery(text),
      sparse: encodeQuery(text),
      principals,
      limit: 5,
    });
    return hits.map((h) => h.payload);
  };

  beforeAll(async () => {
    env = await ingestEnv();
    alice = await addUser(env.db, 'alice', ['finance']);
    ingestor = await env.start();
  });

  it('indexes an uploaded document: chunks in Postgres, points in Qdrant, searchable with its ACL', async () => {
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'budget.txt',
      content: LONG_TEXT('budget'),
    });
    const d = await indexed({ id });
    expect(d.chunk_count).toBeGreaterThan(1);
    expect(d.progress).toBe(1);
    expect(d.version).toBe(2);
    const chunks = await env.db('chunks').where({ document_id: id }).orderBy('index');
    expect(chunks.map((c: { index: number }) => c.index)).toEqual([...Array(d.chunk_count).keys()]);
    expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(d.chunk_count);
    const mine = await search('budget timelines', [`user:${alice}`, 'org']);
    expect(mine[0]).toMatchObject({ document_id: id, filename: 'budget.txt', principals: [`user:${alice}`] });
    expect(await search('budget timelines', ['user:someone-else', 'org'])).toEqual([]);
  });

  it('re-running a job writes exactly the same points (no duplicates)', async () => {
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'same.md',
      content: `# Title\n\n${LONG_TEXT('retry')}`,
    });
    const first = await indexed({ id });
    const ids1 = (await env.db('chunks').where({ document_id: id }).orderBy('index')).map(
      (c: { point_id: string }) => c.point_id,
    );
    // A forced run is what a redelivered job does.
    await env.db('documents').where({ id }).update({ status: 'pending' });
    await sendInTransaction(ingestor.deps.boss, env.db, JOBS.ingest, { documentId: id, force: true });
    const second = await waitFor('second run', async () => {
      const d = await doc({ id });
      return d?.status === 'indexed' && d.version > first.version ? d : undefined;
    });
    const ids2 = (await env.db('chunks').where({ document_id: id }).orderBy('index')).map(
      (c: { point_id: string }) => c.point_id,
    );
    expect(ids2).toEqual(ids1);
    expect(second.chunk_count).toBe(first.chunk_count);
    expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(first.chunk_count);
  });

  it('a corrupt PDF fails at once with a message a person can act on', async () => {
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'broken.pdf',
      content: '%PDF-1.4\nthis is not really a pdf',
      mime: 'application/pdf',
    });
    const d = await waitFor('failed', async () => {
      const r = await doc({ id });
      return r?.status === 'failed' ? r : undefined;
    });
    expect(d.error).toMatch(/PDF/i);
    const jobs = await env.db.raw(
      `select retry_count from pgboss.job where name = 'ingest' and data->>'documentId' = ?`,
      [id],
    );
    expect(jobs.rows[0].retry_count).toBe(0);
  });

  it('changing access rewrites the principals in the index without re-embedding', async () => {
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'acl.txt',
      content: LONG_TEXT('procurement'),
    });
    const before = await indexed({ id });
    await env.db.transaction(async (trx) => {
      await trx('documents').where({ id }).update({ access: 'group:finance' });
      await sendInTransaction(ingestor.deps.boss, trx, JOBS.access, { documentId: id });
    });
    await waitFor('principals updated', async () => {
      const hits = await search('procurement budgets', ['group:finance']);
      return hits.some((h) => h.document_id === id);
    });
    const hit = (await search('procurement budgets', ['group:finance'])).find((h) => h.document_id === id)!;
    expect(hit.principals.sort()).toEqual(['group:finance', `user:${alice}`].sort());
    // Not re-embedded: same version, same points.
    const after = await doc({ id });
    expect(after?.version).toBe(before.version);
    expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(before.chunk_count);
  });

  it('a delete job removes points, chunks, the stored file and the row', async () => {
    const id = await uploadDocument(ingestor, {
      ownerId: alice,
      filename: 'bye.txt',
      content: LONG_TEXT('farewell'),
    });
    const d = await indexed({ id });
    await env.db.transaction(async (trx) => {
      await trx('documents').where({ id }).update({ status: 'deleted' });
      await sendInTransaction(ingestor.deps.boss, trx, JOBS.delete, { documentId: id });
    });
    await waitFor('row removed', async () => !(await doc({ id })));
    expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(0);
    expect(await env.db('chunks').where({ document_id: id })).toEqual([]);
    expect(await ingestor.deps.storage.stat(d.storage_key)).toBeNull();
  });

  describe('drop folder', () => {
    it('layout decides access; unknown users and groups are refused visibly', async () => {
      await writeDropFile(env.dropDir, 'top.md', `# Top\n\n${LONG_TEXT('harbour')}`);
      await writeDropFile(env.dropDir, 'shared/policy.txt', LONG_TEXT('policy'));
      await writeDropFile(env.dropDir, 'users/alice/notes.txt', LONG_TEXT('notes'));
      await writeDropFile(env.dropDir, 'groups/finance/q3.csv', 'quarter,revenue\nQ3,100\nQ4,120\n');
      await writeDropFile(env.dropDir, 'users/nobody/secret.txt', 'secret stuff');
      await writeDropFile(env.dropDir, 'groups/ghosts/boo.txt', 'boo');
      await writeDropFile(env.dropDir, '.hidden.txt', 'hidden');
      await writeDropFile(env.dropDir, 'shared/~$lock.docx', 'lock');
      await writeDropFile(env.dropDir, 'shared/download.txt.part', 'partial');
      const top = await indexed({ source_path: 'top.md' });
      expect(top).toMatchObject({ access: 'org', owner_id: null });
      expect(await indexed({ source_path: 'shared/policy.txt' })).toMatchObject({ access: 'org' });
      expect(await indexed({ source_path: 'users/alice/notes.txt' })).toMatchObject({
        access: 'private',
        owner_id: alice,
      });
      expect(await indexed({ source_path: 'groups/finance/q3.csv' })).toMatchObject({
        access: 'group:finance',
      });
      const nobody = await waitFor('refusal', () => doc({ source_path: 'users/nobody/secret.txt' }));
      expect(nobody).toMatchObject({ status: 'failed', owner_id: null, storage_key: '' });
      expect(nobody.error).toMatch(/no user "nobody"/);
      expect(
        (await waitFor('group refusal', () => doc({ source_path: 'groups/ghosts/boo.txt' }))).error,
      ).toMatch(/group "ghosts"/);
      for (const p of ['.hidden.txt', 'shared/~$lock.docx', 'shared/download.txt.part'])
        expect(await doc({ source_path: p })).toBeUndefined();
      // Principals in the index follow the layout.
      const hits = await search('policy team reviewed', ['org']);
      expect(hits.some((h) => h.filename === 'policy.txt')).toBe(true);
      expect(hits.some((h) => h.filename === 'notes.txt')).toBe(false);
      expect(
        (await search('notes team reviewed', [`user:${alice}`])).some((h) => h.filename === 'notes.txt'),
      ).toBe(true);
    });

    it('edit re-embeds; rename moves without re-embedding; unlink deletes', async () => {
      await writeDropFile(env.dropDir, 'shared/plan.txt', LONG_TEXT('migration'));
      const first = await indexed({ source_path: 'shared/plan.txt' });
      await writeDropFile(env.dropDir, 'shared/plan.txt', LONG_TEXT('rollback'));
      const edited = await waitFor('re-indexed', async () => {
        const d = await doc({ id: first.id });
        return d?.status === 'indexed' && d.version > first.version ? d : undefined;
      });
      expect((await search('rollback team reviewed', ['org'])).some((h) => h.document_id === first.id)).toBe(
        true,
      );

      const calls = env.ollama.standin?.counters.embedCalls;
      await rename(join(env.dropDir, 'shared/plan.txt'), join(env.dropDir, 'groups/finance/plan.txt'));
      const moved = await waitFor('moved', async () => {
        const d = await doc({ id: first.id });
        return d?.source_path === 'groups/finance/plan.txt' && d.access === 'group:finance' ? d : undefined;
      });
      await new Promise((r) => setTimeout(r, 1000)); // the grace period and the access job
      expect((await doc({ id: first.id }))?.version).toBe(edited.version);
      expect(moved.status).toBe('indexed');
      if (calls !== undefined) expect(env.ollama.standin!.counters.embedCalls).toBe(calls);
      await waitFor('principals moved', async () =>
        (await search('rollback team reviewed', ['group:finance'])).some((h) => h.document_id === first.id),
      );
      expect((await search('rollback team reviewed', ['org'])).some((h) => h.document_id === first.id)).toBe(
        false,
      );

      await rm(join(env.dropDir, 'groups/finance/plan.txt'));
      await waitFor('removed', async () => !(await doc({ id: first.id })));
      expect(await ingestor.deps.index.countDocumentPoints(first.id)).toBe(0);
    });

    it('refuses symlinks that leave the folder', async () => {
      const outside = join(env.dropDir, '..', `outside-${Date.now()}.txt`);
      await writeFile(outside, LONG_TEXT('outside secret'));
      await symlink(outside, join(env.dropDir, 'shared/escape.txt'));
      // A link that stays inside the folder is followed.
      await writeDropFile(env.dropDir, 'shared/inside-target.txt', LONG_TEXT('inside link'));
      await symlink(
        join(env.dropDir, 'shared/inside-target.txt'),
        join(env.dropDir, 'shared/inside-link.txt'),
      );
      await ingestor.scheduleReconcile();
      await indexed({ source_path: 'shared/inside-link.txt' });
      expect(await doc({ source_path: 'shared/escape.txt' })).toBeUndefined();
      await rm(outside);
    });
  });
});
