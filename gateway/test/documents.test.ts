import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { JOBS } from '@rattgllm/core';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';
import { multipart, TINY_PDF } from '../../test/support/multipart.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function jobs(app: FastifyInstance, name: string, documentId: string) {
  const r = await app.db.raw(
    `select name, data, state from pgboss.job where name = ? and data->>'documentId' = ?`,
    [name, documentId],
  );
  return r.rows as { name: string; data: Record<string, unknown>; state: string }[];
}

async function objectKeys(app: FastifyInstance, prefix = 'documents/'): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of app.storage.list(prefix)) keys.push(k);
  return keys;
}

describe('documents', () => {
  let app: FastifyInstance;
  let adminToken: string;
  let owner: { id: string; token: string };
  let member: { id: string; token: string };
  let outsider: { id: string; token: string };

  const upload = (
    token: string,
    files: Parameters<typeof multipart>[0],
    fields: Record<string, string | string[]> = {},
  ) => {
    const { payload, headers } = multipart(files, fields);
    return app.inject({ method: 'POST', url: '/upload', headers: { ...headers, ...bearer(token) }, payload });
  };

  beforeAll(async () => {
    app = await startGateway({ MAX_UPLOAD_MB: '2' });
    adminToken = await login(app, ADMIN.username, ADMIN.password);
    owner = await createUser(app, adminToken, { username: 'olive', groups: ['finance'] });
    member = await createUser(app, adminToken, { username: 'mona', groups: ['finance'] });
    outsider = await createUser(app, adminToken, { username: 'otto', groups: ['sales'] });
  });

  describe('POST /upload', () => {
    it('stores the file, writes a pending row and its ingest job', async () => {
      const content = '# Quarterly report\n\nRevenue grew.\n';
      const res = await upload(owner.token, [{ filename: 'report.md', content }], { tags: 'q3, finance' });
      expect(res.statusCode, res.body).toBe(201);
      const [doc] = res.json().documents;
      expect(doc).toMatchObject({
        filename: 'report.md',
        size: Buffer.byteLength(content),
        sha256: sha(content),
        status: 'pending',
        access: 'private',
        tags: ['q3', 'finance'],
        duplicate: false,
        ownerId: owner.id,
      });
      expect(doc.mime).toBe('text/markdown; charset=utf-8');
      expect(await jobs(app, 'ingest', doc.id)).toHaveLength(1);
      expect(await objectKeys(app, `documents/${doc.id}/`)).toEqual([`documents/${doc.id}/report.md`]);
      const body = await app.inject({
        method: 'GET',
        url: `/documents/${doc.id}/content`,
        headers: bearer(owner.token),
      });
      expect(body.body).toBe(content);
    });

    it('the same content again from the same owner is a duplicate, stored once', async () => {
      const content = 'same bytes, twice';
      const first = (await upload(owner.token, [{ filename: 'a.txt', content }])).json().documents[0];
      const again = await upload(owner.token, [{ filename: 'copy-of-a.txt', content }]);
      expect(again.statusCode).toBe(200);
      expect(again.json().documents[0]).toMatchObject({ id: first.id, filename: 'a.txt', duplicate: true });
      const keys = (await objectKeys(app)).filter((k) => k.endsWith('a.txt'));
      expect(keys).toEqual([`documents/${first.id}/a.txt`]);
      // Another owner uploading the same bytes gets a document of their own.
      const other = await upload(member.token, [{ filename: 'a.txt', content }]);
      expect(other.statusCode).toBe(201);
      expect(other.json().documents[0].id).not.toBe(first.id);
    });

    it('takes several files in one request; PDFs are sniffed as PDFs', async () => {
      const res = await upload(owner.token, [
        { filename: 'one.txt', content: 'first file' },
        { filename: 'two.csv', content: 'a,b\n1,2\n' },
        { filename: 'three.pdf', content: TINY_PDF },
      ]);
      expect(res.statusCode).toBe(201);
      expect(
        res.json().documents.map((d: { filename: string; mime: string }) => [d.filename, d.mime]),
      ).toEqual([
        ['one.txt', 'text/plain; charset=utf-8'],
        ['two.csv', 'text/csv; charset=utf-8'],
        ['three.pdf', 'application/pdf'],
      ]);
    });

    it('rejects a file over MAX_UPLOAD_MB with 413 and keeps nothing', async () => {
      const before = await objectKeys(app);
      const rows = await app.db('documents').count<{ count: number }[]>({ count: '*' });
      const res = await upload(owner.token, [
        { filename: 'big.txt', content: Buffer.alloc(2 * 1024 * 1024 + 10, 'a') },
      ]);
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ code: 'FILE_TOO_LARGE' });
      expect(res.json().message).toMatch(/2 MB/);
      expect(await objectKeys(app)).toEqual(before);
      expect(await app.db('documents').count<{ count: number }[]>({ count: '*' })).toEqual(rows);
    });

    it('rejects an empty file with 400', async () => {
      const res = await upload(owner.token, [{ filename: 'empty.txt', content: '' }]);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('EMPTY_FILE');
    });

    it.each([
      ['an unsupported extension', 'tool.exe', Buffer.from('MZ\x90\x00binary')],
      ['a .pdf that is not a PDF', 'fake.pdf', Buffer.from('just some text pretending')],
      [
        'a .txt that is binary',
        'data.txt',
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      ],
      ['a .docx that is a PDF', 'letter.docx', TINY_PDF],
      ['no extension', 'README', Buffer.from('hello')],
    ])('rejects %s with 415 naming the supported types', async (_name, filename, content) => {
      const res = await upload(owner.token, [{ filename, content }]);
      expect(res.statusCode).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_TYPE');
      expect(res.json().message).toMatch(/Supported types: pdf, docx, pptx, xlsx, html/);
    });

    it('a failing file fails the whole request and nothing of it is kept', async () => {
      const before = await objectKeys(app);
      const res = await upload(owner.token, [
        { filename: 'good-one.txt', content: 'fine content here' },
        { filename: 'bad.pdf', content: 'not a pdf' },
      ]);
      expect(res.statusCode).toBe(415);
      expect(await objectKeys(app)).toEqual(before);
      expect(await app.db('documents').where({ filename: 'good-one.txt' })).toEqual([]);
    });

    it('never trusts file names: path parts, control characters and overlong names are sanitised', async () => {
      const long = `${'é'.repeat(200)}.txt`;
      const res = await upload(owner.token, [
        { filename: '../../etc/passwd.txt', content: 'x1' },
        { filename: 'C:\\Users\\bob\\evil\u0007name\u202e.txt', content: 'x2' },
        { filename: long, content: 'x3' },
      ]);
      expect(res.statusCode).toBe(201);
      const names = res.json().documents.map((d: { filename: string }) => d.filename);
      expect(names[0]).toBe('passwd.txt');
      expect(names[1]).toBe('evilname.txt');
      expect(Buffer.byteLength(names[2])).toBeLessThanOrEqual(255);
      expect(names[2].endsWith('.txt')).toBe(true);
    });

    it('checks access: invalid → 400, a group you are not in → 403, admins may use any group', async () => {
      const bad = await upload(owner.token, [{ filename: 'x.txt', content: 'acc1' }], { access: 'public' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('INVALID_ACCESS');
      const notMine = await upload(owner.token, [{ filename: 'x.txt', content: 'acc2' }], {
        access: 'group:sales',
      });
      expect(notMine.statusCode).toBe(403);
      expect(notMine.json().code).toBe('NOT_IN_GROUP');
      const admin = await upload(adminToken, [{ filename: 'x.txt', content: 'acc3' }], {
        access: 'group:sales',
      });
      expect(admin.statusCode).toBe(201);
      const badTag = await upload(owner.token, [{ filename: 'x.txt', content: 'acc4' }], {
        tags: '<script>',
      });
      expect(badTag.statusCode).toBe(400);
      expect(badTag.json().code).toBe('INVALID_TAG');
    });

    it('wants multipart with a file, and a valid token', async () => {
      const json = await app.inject({
        method: 'POST',
        url: '/upload',
        headers: bearer(owner.token),
        payload: { file: 'x' },
      });
      expect(json.statusCode).toBe(415);
      const none = multipart([], { access: 'org' });
      const noFile = await app.inject({
        method: 'POST',
        url: '/upload',
        headers: { ...none.headers, ...bearer(owner.token) },
        payload: none.payload,
      });
      expect(noFile.statusCode).toBe(400);
      expect(noFile.json().code).toBe('NO_FILE');
      const anon = multipart([{ filename: 'a.txt', content: 'x' }]);
      expect((await app.inject({ method: 'POST', url: '/upload', ...anon })).statusCode).toBe(401);
    });

    it('if the database fails, the stored object is removed', async () => {
      await app.db.raw(
        `CREATE FUNCTION fail_insert() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
      );
      await app.db.raw(
        `CREATE TRIGGER fail_insert BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION fail_insert()`,
      );
      try {
        const before = await objectKeys(app);
        const res = await upload(owner.token, [{ filename: 'doomed.txt', content: 'db will fail' }]);
        expect(res.statusCode).toBe(500);
        expect(res.body).not.toMatch(/injected/);
        expect(await objectKeys(app)).toEqual(before);
      } finally {
        await app.db.raw('DROP TRIGGER fail_insert ON documents');
        await app.db.raw('DROP FUNCTION fail_insert()');
      }
      expect(await app.db('documents').where({ filename: 'doomed.txt' })).toEqual([]);
    });
  });

  describe('storage down', () => {
    it('an upload answers 503 and leaves no row behind', async () => {
      const down = await startGateway({ S3_ENDPOINT: 'http://127.0.0.1:1' });
      const token = await login(down, ADMIN.username, ADMIN.password);
      const { payload, headers } = multipart([{ filename: 'n.txt', content: 'storage is down' }]);
      const res = await down.inject({
        method: 'POST',
        url: '/upload',
        headers: { ...headers, ...bearer(token) },
        payload,
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
      // The storage's role, not its address (issue #11: no body names an internal address).
      expect(res.json().message).toMatch(/^Object storage refused the connection/);
      expect(res.body).not.toContain('127.0.0.1');
      expect(await down.db('documents')).toEqual([]);
    });
  });

  describe('reading, changing and deleting', () => {
    let priv: string, org: string, group: string;
    beforeAll(async () => {
      const up = async (content: string, access: string, filename: string) =>
        (await upload(owner.token, [{ filename, content }], { access })).json().documents[0].id as string;
      priv = await up('private matrix content', 'private', 'private.txt');
      org = await up('org matrix content', 'org', 'org.txt');
      group = await up('group matrix content', 'group:finance', 'group.txt');
    });

    it('access matrix: owner, group member, outsider and admin see exactly what they may', async () => {
      const expected: Record<string, [string, boolean][]> = {
        owner: [
          [priv, true],
          [org, true],
          [group, true],
        ],
        member: [
          [priv, false],
          [org, true],
          [group, true],
        ],
        outsider: [
          [priv, false],
          [org, true],
          [group, false],
        ],
        admin: [
          [priv, true],
          [org, true],
          [group, true],
        ],
      };
      const tokens = {
        owner: owner.token,
        member: member.token,
        outsider: outsider.token,
        admin: adminToken,
      };
      for (const [who, cases] of Object.entries(expected)) {
        const token = tokens[who as keyof typeof tokens];
        const list = (
          await app.inject({ method: 'GET', url: '/documents?limit=200', headers: bearer(token) })
        ).json();
        const listed = new Set(list.documents.map((d: { id: string }) => d.id));
        for (const [id, allowed] of cases) {
          expect(listed.has(id), `${who} list ${id}`).toBe(allowed);
          const one = await app.inject({ method: 'GET', url: `/documents/${id}`, headers: bearer(token) });
          expect(one.statusCode, `${who} get`).toBe(allowed ? 200 : 404);
          const content = await app.inject({
            method: 'GET',
            url: `/documents/${id}/content`,
            headers: bearer(token),
          });
          expect(content.statusCode, `${who} content`).toBe(allowed ? 200 : 404);
          if (!allowed) {
            // No existence leak: the same 404 as for an id that never existed.
            expect(one.json()).toEqual(
              (
                await app.inject({
                  method: 'GET',
                  url: '/documents/00000000-0000-4000-8000-000000000000',
                  headers: bearer(token),
                })
              ).json(),
            );
            for (const req of [
              { method: 'PATCH' as const, url: `/documents/${id}`, payload: { tags: ['x'] } },
              { method: 'DELETE' as const, url: `/documents/${id}` },
              { method: 'POST' as const, url: '/ingest/reindex', payload: { documentId: id } },
            ]) {
              const res = await app.inject({ ...req, headers: bearer(token) });
              expect(res.statusCode, `${who} ${req.method} ${req.url}`).toBe(404);
            }
          }
        }
      }
      // A reader who is not the owner may not change, delete or re-index.
      for (const req of [
        { method: 'PATCH' as const, url: `/documents/${group}`, payload: { access: 'org' } },
        { method: 'DELETE' as const, url: `/documents/${group}` },
        { method: 'POST' as const, url: '/ingest/reindex', payload: { documentId: group } },
      ]) {
        const res = await app.inject({ ...req, headers: bearer(member.token) });
        expect(res.statusCode, `${req.method} ${req.url}`).toBe(403);
      }
    });

    it('lists newest first, paginated, with filters', async () => {
      const all = (
        await app.inject({ method: 'GET', url: '/documents?limit=200', headers: bearer(owner.token) })
      ).json();
      const times = all.documents.map((d: { createdAt: string }) => d.createdAt);
      expect([...times].sort().reverse()).toEqual(times);
      const page = (
        await app.inject({ method: 'GET', url: '/documents?limit=2&offset=1', headers: bearer(owner.token) })
      ).json();
      expect(page).toMatchObject({ limit: 2, offset: 1, total: all.total });
      expect(page.documents.map((d: { id: string }) => d.id)).toEqual(
        all.documents.slice(1, 3).map((d: { id: string }) => d.id),
      );
      const byAccess = (
        await app.inject({
          method: 'GET',
          url: '/documents?access=group:finance',
          headers: bearer(owner.token),
        })
      ).json();
      expect(byAccess.documents.every((d: { access: string }) => d.access === 'group:finance')).toBe(true);
      const byName = (
        await app.inject({ method: 'GET', url: '/documents?q=matrix', headers: bearer(owner.token) })
      ).json();
      expect(byName.documents).toEqual([]);
      const byName2 = (
        await app.inject({ method: 'GET', url: '/documents?q=RIVATE', headers: bearer(owner.token) })
      ).json();
      expect(byName2.documents.map((d: { filename: string }) => d.filename)).toEqual(['private.txt']);
      const byTag = (
        await app.inject({ method: 'GET', url: '/documents?tag=q3', headers: bearer(owner.token) })
      ).json();
      expect(byTag.documents.map((d: { filename: string }) => d.filename)).toEqual(['report.md']);
      const byStatus = (
        await app.inject({ method: 'GET', url: '/documents?status=indexed', headers: bearer(owner.token) })
      ).json();
      expect(byStatus.total).toBe(0);
      const bad = await app.inject({
        method: 'GET',
        url: '/documents?limit=0',
        headers: bearer(owner.token),
      });
      expect(bad.statusCode).toBe(400);
      const badStatus = await app.inject({
        method: 'GET',
        url: '/documents?status=weird',
        headers: bearer(owner.token),
      });
      expect(badStatus.statusCode).toBe(400);
    });

    it('streams the original with safe headers and byte ranges', async () => {
      const full = await app.inject({
        method: 'GET',
        url: `/documents/${priv}/content`,
        headers: bearer(owner.token),
      });
      expect(full.statusCode).toBe(200);
      expect(full.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(full.headers['accept-ranges']).toBe('bytes');
      expect(full.headers['content-disposition']).toBe(
        `inline; filename="private.txt"; filename*=UTF-8''private.txt`,
      );
      expect(full.headers['x-content-type-options']).toBe('nosniff');
      expect(full.headers['content-security-policy']).toMatch(/sandbox/);
      const part = await app.inject({
        method: 'GET',
        url: `/documents/${priv}/content`,
        headers: { ...bearer(owner.token), range: 'bytes=8-13' },
      });
      expect(part.statusCode).toBe(206);
      expect(part.body).toBe('matrix');
      expect(part.headers['content-range']).toBe(`bytes 8-13/${Buffer.byteLength('private matrix content')}`);
      const suffix = await app.inject({
        method: 'GET',
        url: `/documents/${priv}/content`,
        headers: { ...bearer(owner.token), range: 'bytes=-7' },
      });
      expect(suffix.body).toBe('content');
      const beyond = await app.inject({
        method: 'GET',
        url: `/documents/${priv}/content`,
        headers: { ...bearer(owner.token), range: 'bytes=9999-' },
      });
      expect(beyond.statusCode).toBe(416);
      expect(beyond.headers['content-range']).toBe(`bytes */${Buffer.byteLength('private matrix content')}`);
      const dl = await app.inject({
        method: 'GET',
        url: `/documents/${priv}/content?download=true`,
        headers: bearer(owner.token),
      });
      expect(dl.headers['content-disposition']).toMatch(/^attachment;/);
    });

    it('serves HTML only as a sandboxed download, never inline on our origin', async () => {
      const id = (
        await upload(owner.token, [{ filename: 'page.html', content: '<h1>x</h1><script>alert(1)</script>' }])
      ).json().documents[0].id;
      const res = await app.inject({
        method: 'GET',
        url: `/documents/${id}/content`,
        headers: bearer(owner.token),
      });
      expect(res.headers['content-disposition']).toMatch(/^attachment;/);
      expect(res.headers['content-security-policy']).toMatch(/sandbox/);
    });

    it('PATCH changes access and tags and queues the index update; bad values are 400', async () => {
      const res = await app.inject({
        method: 'PATCH',
        url: `/documents/${priv}`,
        headers: bearer(owner.token),
        payload: { access: 'group:finance', tags: ['hr'] },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ access: 'group:finance', tags: ['hr'] });
      expect((await jobs(app, JOBS.access, priv)).length).toBeGreaterThan(0);
      expect(
        (await app.inject({ method: 'GET', url: `/documents/${priv}`, headers: bearer(member.token) }))
          .statusCode,
      ).toBe(200);
      const back = await app.inject({
        method: 'PATCH',
        url: `/documents/${priv}`,
        headers: bearer(owner.token),
        payload: { access: 'private' },
      });
      expect(back.statusCode).toBe(200);
      expect(
        (await app.inject({ method: 'GET', url: `/documents/${priv}`, headers: bearer(member.token) }))
          .statusCode,
      ).toBe(404);
      for (const payload of [{ access: 'everyone' }, {}, { owner: 'me' }]) {
        const bad = await app.inject({
          method: 'PATCH',
          url: `/documents/${priv}`,
          headers: bearer(owner.token),
          payload,
        });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      }
      const notMine = await app.inject({
        method: 'PATCH',
        url: `/documents/${priv}`,
        headers: bearer(owner.token),
        payload: { access: 'group:sales' },
      });
      expect(notMine.statusCode).toBe(403);
    });

    it('DELETE hides the document at once and queues its removal', async () => {
      const id = (await upload(owner.token, [{ filename: 'gone.txt', content: 'to be deleted' }])).json()
        .documents[0].id;
      const del = await app.inject({
        method: 'DELETE',
        url: `/documents/${id}`,
        headers: bearer(owner.token),
      });
      expect(del.statusCode).toBe(204);
      expect(
        (await app.inject({ method: 'GET', url: `/documents/${id}`, headers: bearer(owner.token) }))
          .statusCode,
      ).toBe(404);
      expect(
        (await app.inject({ method: 'GET', url: `/documents/${id}`, headers: bearer(adminToken) }))
          .statusCode,
      ).toBe(404);
      const list = (
        await app.inject({ method: 'GET', url: '/documents?limit=200', headers: bearer(owner.token) })
      ).json();
      expect(list.documents.map((d: { id: string }) => d.id)).not.toContain(id);
      expect(await jobs(app, 'delete', id)).toHaveLength(1);
      // Re-uploading the same content after a delete makes a new document.
      const again = await upload(owner.token, [{ filename: 'gone.txt', content: 'to be deleted' }]);
      expect(again.statusCode).toBe(201);
    });

    it('POST /ingest/reindex: own documents, one job per burst, everything for admins only', async () => {
      const first = await app.inject({
        method: 'POST',
        url: '/ingest/reindex',
        headers: bearer(owner.token),
        payload: { documentId: org, force: true },
      });
      expect(first.statusCode).toBe(202);
      const burst = await Promise.all(
        Array.from({ length: 5 }, () =>
          app.inject({
            method: 'POST',
            url: '/ingest/reindex',
            headers: bearer(owner.token),
            payload: { documentId: org },
          }),
        ),
      );
      expect(burst.every((r) => r.statusCode === 202)).toBe(true);
      const queued = (await jobs(app, 'ingest', org)).filter((j) => j.state === 'created');
      expect(queued).toHaveLength(1);
      expect((await app.db('documents').where({ id: org }).first()).status).toBe('pending');
      const all = await app.inject({
        method: 'POST',
        url: '/ingest/reindex',
        headers: bearer(owner.token),
        payload: { all: true },
      });
      expect(all.statusCode).toBe(403);
      const adminAll = await app.inject({
        method: 'POST',
        url: '/ingest/reindex',
        headers: bearer(adminToken),
        payload: { all: true, force: true },
      });
      expect(adminAll.statusCode).toBe(202);
      expect(adminAll.json()).toEqual({ queued: 1 });
      for (const payload of [{}, { all: true, documentId: org }, { documentId: 'nope' }]) {
        const bad = await app.inject({
          method: 'POST',
          url: '/ingest/reindex',
          headers: bearer(adminToken),
          payload,
        });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      }
    });
  });
});
