/**
 * Qdrant's collection aliases as the stand-in implements them, in Qdrant's own HTTP shapes; the
 * same file runs against a real Qdrant (QDRANT_URL), which is how its fidelity is checked.
 * Semantics from Qdrant 1.19 (lib/storage/src/content_manager/toc/collection_meta_ops.rs):
 * actions apply in order under one lock; create_alias needs the collection and refuses a name a
 * collection has; delete_alias of an unknown alias is fine; every collection route resolves an
 * alias; deleting a collection removes its aliases; DELETE by an alias name deletes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQdrant, uniqueCollectionName, type QdrantStandin, type Service } from './index.js';

let qdrant: Service<QdrantStandin>;
const created: string[] = [];

async function call(method: string, path: string, body?: unknown) {
  const key = qdrant.env.QDRANT_API_KEY;
  const res = await fetch(`${qdrant.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { 'api-key': key } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as { result?: unknown; status?: unknown } };
}

async function collection(prefix: string): Promise<string> {
  const name = uniqueCollectionName(prefix);
  const res = await call('PUT', `/collections/${name}`, {
    vectors: { dense: { size: 4, distance: 'Cosine' } },
  });
  expect(res.status).toBe(200);
  created.push(name);
  return name;
}

const aliases = (actions: unknown[]) => call('POST', '/collections/aliases', { actions });
const aliasesOf = async (name: string) =>
  (
    (await call('GET', '/aliases')).body.result as {
      aliases: { alias_name: string; collection_name: string }[];
    }
  ).aliases
    .filter((a) => a.alias_name === name)
    .map((a) => a.collection_name);

beforeAll(async () => {
  qdrant = await startQdrant();
});
afterAll(async () => {
  for (const name of created) await call('DELETE', `/collections/${name}`);
  await qdrant.close();
});

describe('Qdrant aliases (stand-in, or a real Qdrant with QDRANT_URL)', () => {
  it('an alias serves every collection route, and one request re-points it atomically', async () => {
    const a = await collection('al_a');
    const b = await collection('al_b');
    const alias = uniqueCollectionName('al_alias');
    await call('PUT', `/collections/${a}/points?wait=true`, {
      points: [{ id: 1, vector: { dense: [1, 0, 0, 0] }, payload: { in: 'a' } }],
    });
    await call('PUT', `/collections/${b}/points?wait=true`, {
      points: [
        { id: 2, vector: { dense: [0, 1, 0, 0] }, payload: { in: 'b' } },
        { id: 3, vector: { dense: [0, 0, 1, 0] }, payload: { in: 'b' } },
      ],
    });
    const created1 = await aliases([{ create_alias: { collection_name: a, alias_name: alias } }]);
    expect(created1).toMatchObject({ status: 200, body: { result: true, status: 'ok' } });
    expect(await aliasesOf(alias)).toEqual([a]);
    expect((await call('GET', `/collections/${a}/aliases`)).body.result).toEqual({
      aliases: [{ alias_name: alias, collection_name: a }],
    });
    expect((await call('GET', `/collections/${alias}/exists`)).body.result).toEqual({ exists: true });
    const count = async () =>
      (
        (await call('POST', `/collections/${alias}/points/count`, { exact: true })).body.result as {
          count: number;
        }
      ).count;
    expect(await count()).toBe(1);
    const info = (await call('GET', `/collections/${alias}`)).body.result as { points_count: number };
    expect(info.points_count).toBe(1);

    // The switch: delete and create in one request.
    const switched = await aliases([
      { delete_alias: { alias_name: alias } },
      { create_alias: { collection_name: b, alias_name: alias } },
    ]);
    expect(switched.status).toBe(200);
    expect(await aliasesOf(alias)).toEqual([b]);
    expect(await count()).toBe(2);
    const hits = (
      await call('POST', `/collections/${alias}/points/query`, {
        query: [0, 1, 0, 0],
        using: 'dense',
        limit: 1,
      })
    ).body.result as { points: { id: number }[] };
    expect(hits.points.map((p) => p.id)).toEqual([2]);

    // Rename keeps the target.
    const renamed = uniqueCollectionName('al_renamed');
    expect(
      (await aliases([{ rename_alias: { old_alias_name: alias, new_alias_name: renamed } }])).status,
    ).toBe(200);
    expect(await aliasesOf(alias)).toEqual([]);
    expect(await aliasesOf(renamed)).toEqual([b]);
    await aliases([{ delete_alias: { alias_name: renamed } }]);
  });

  it('refuses what Qdrant refuses, with its statuses', async () => {
    const a = await collection('al_c');
    const other = await collection('al_d');
    const alias = uniqueCollectionName('al_x');
    // The target must exist (404), and an alias may not take a collection's name (400).
    const missing = await aliases([
      { create_alias: { collection_name: uniqueCollectionName('nope'), alias_name: alias } },
    ]);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body.status)).toMatch(/doesn't exist/);
    const taken = await aliases([{ create_alias: { collection_name: a, alias_name: other } }]);
    expect(taken.status).toBe(400);
    expect(JSON.stringify(taken.body.status)).toMatch(/already exists/);
    // Deleting an alias that is not there is no error.
    expect((await aliases([{ delete_alias: { alias_name: uniqueCollectionName('none') } }])).status).toBe(
      200,
    );
    // A body that is not a list of actions is a 400 (Qdrant: a format error; the text differs).
    expect((await call('POST', '/collections/aliases', { actions: 'x' })).status).toBe(400);
    expect((await aliases([{ make_alias: { alias_name: alias } }])).status).toBe(400);

    // A collection cannot be created under an alias's name.
    await aliases([{ create_alias: { collection_name: a, alias_name: alias } }]);
    const clash = await call('PUT', `/collections/${alias}`, {
      vectors: { dense: { size: 4, distance: 'Cosine' } },
    });
    expect(clash.status).toBe(400);
    expect(JSON.stringify(clash.body.status)).toMatch(/[Aa]lias/);
    // DELETE by the alias's name deletes nothing; deleting the collection takes its aliases along.
    expect((await call('DELETE', `/collections/${alias}`)).body.result).toBe(false);
    expect((await call('GET', `/collections/${a}/exists`)).body.result).toEqual({ exists: true });
    expect((await call('DELETE', `/collections/${a}`)).body.result).toBe(true);
    expect(await aliasesOf(alias)).toEqual([]);
    expect((await call('GET', `/collections/${alias}/exists`)).body.result).toEqual({ exists: false });
  });
});
