import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';

const N = 230;

describe('GET /documents: paging past 200, sorting, owner names', () => {
  let app: FastifyInstance;
  let admin: string;
  let bob: { id: string; token: string };

  beforeAll(async () => {
    app = await startGateway();
    admin = await login(app, ADMIN.username, ADMIN.password);
    bob = await createUser(app, admin, { username: 'bob' });
    const adminId = (await app.db('users').where({ username: 'admin' }).first('id')).id;
    const t0 = Date.UTC(2026, 0, 1);
    await app.db('documents').insert(
      Array.from({ length: N }, (_, i) => ({
        owner_id: i % 10 === 0 ? bob.id : adminId,
        filename: `doc-${String(i).padStart(3, '0')}.txt`,
        mime: 'text/plain; charset=utf-8',
        size: 1000 + ((i * 7) % 50),
        sha256: i.toString(16).padStart(64, '0'),
        storage_key: `k/${i}`,
        source: i % 3 === 0 ? 'drop' : 'upload',
        access: i % 10 === 0 ? 'org' : 'private',
        status: 'indexed',
        created_at: new Date(t0 + i * 60_000),
      })),
    );
  });

  const list = async (token: string, query: string) => {
    const res = await app.inject({ url: `/documents?${query}`, headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return res.json() as {
      documents: { filename: string; ownerName: string | null; size: number }[];
      total: number;
    };
  };

  it('pages through all 230 newest first, every document exactly once', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < N; offset += 100) {
      const page = await list(admin, `limit=100&offset=${offset}`);
      expect(page.total).toBe(N);
      seen.push(...page.documents.map((d) => d.filename));
    }
    expect(seen).toHaveLength(N);
    expect(new Set(seen).size).toBe(N);
    expect(seen[0]).toBe('doc-229.txt');
    expect(seen[N - 1]).toBe('doc-000.txt');
    const last = await list(admin, 'limit=50&offset=200');
    expect(last.documents.map((d) => d.filename)).toEqual(
      Array.from({ length: 30 }, (_, i) => `doc-${String(29 - i).padStart(3, '0')}.txt`),
    );
  });

  it('sorts by name, size and owner; carries the owner’s username', async () => {
    const byName = await list(admin, 'sort=filename&limit=3');
    expect(byName.documents.map((d) => d.filename)).toEqual(['doc-000.txt', 'doc-001.txt', 'doc-002.txt']);
    const byNameDesc = await list(admin, 'sort=filename&order=desc&limit=1');
    expect(byNameDesc.documents[0]!.filename).toBe('doc-229.txt');
    const bySize = (await list(admin, 'sort=size&order=desc&limit=200')).documents.map((d) => d.size);
    expect(bySize).toEqual([...bySize].sort((a, b) => b - a));
    const byOwner = await list(admin, 'sort=owner&limit=200');
    expect(byOwner.documents[0]!.ownerName).toBe('admin');
    const byOwnerDesc = await list(admin, 'sort=owner&order=desc&limit=1');
    expect(byOwnerDesc.documents[0]!.ownerName).toBe('bob');
  });

  it('a reader pages only through what they may read', async () => {
    const page = await list(bob.token, 'limit=200');
    expect(page.total).toBe(N / 10);
    expect(page.documents.every((d) => d.ownerName === 'bob')).toBe(true);
  });

  it('refuses an unknown sort column with a sentence', async () => {
    const res = await app.inject({ url: '/documents?sort=password_hash', headers: bearer(admin) });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields.sort).toBe('Sort has a value that is not allowed.');
  });
});
