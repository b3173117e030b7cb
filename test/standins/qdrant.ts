/**
 * An in-process stand-in for Qdrant (REST API of v1.19) covering everything rattgllm calls:
 * collections (create, get, exists, list, delete), aliases (`POST /collections/aliases` with
 * create/delete/rename actions, `GET /aliases`, `GET /collections/{name}/aliases`; every
 * collection route resolves an alias first, as Qdrant's resolve_name does), payload indexes, points upsert / retrieve /
 * delete (ids or filter) / set and overwrite payload / scroll / count, and the Query API with
 * nested prefetch, RRF fusion, dense cosine and sparse (IDF-modified) dot-product scoring
 * (qdrant-query.ts), filters (qdrant-filter.ts) read through the declared payload indexes
 * (qdrant-index.ts), collections' shape and info (qdrant-collection.ts).
 * Paths, field names, status codes, the `{result, status, time}` envelope and the
 * `{status: {error}}` error bodies follow Qdrant's server; the contract test checks them against
 * Qdrant's OpenAPI document. Search is exact (brute force), which real HNSW only approximates.
 * Like Qdrant, tied scores come back in varying order; unlike Qdrant, IDF counts only live points.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonError, StandinServer } from './server.js';
import { collectionInfo, createCollection, record, vectorsOf, type Collection } from './qdrant-collection.js';
import {
  badRequest,
  compareIds,
  formatError,
  idKey,
  normaliseId,
  type Json,
  type StoredPoint,
} from './qdrant-filter.js';
import { filtered } from './qdrant-index.js';
import { query } from './qdrant-query.js';

export { matchFilter } from './qdrant-filter.js';

export class QdrantStandin extends StandinServer {
  readonly collections = new Map<string, Collection>();
  /** alias name → collection name (Qdrant's alias_persistence). */
  readonly aliases = new Map<string, string>();

  protected errorBody(_status: number, message: string): unknown {
    return { status: { error: message }, time: 0.000012 };
  }

  private ok(res: ServerResponse, result: unknown, t0: number, status = 'ok'): void {
    this.sendJson(res, 200, { result, status, time: (performance.now() - t0) / 1000 });
  }

  /** An alias resolves to its collection; otherwise the name itself (Qdrant checks the alias first). */
  private resolve(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  private collection(name: string): Collection {
    const c = this.collections.get(this.resolve(name));
    if (!c) throw new JsonError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return c;
  }

  protected handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    url: URL,
  ): Promise<void> => {
    const t0 = performance.now();
    const b = (body ?? {}) as Json;
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const wait = url.searchParams.get('wait') === 'true';
    const update = (c: Collection) => {
      c.operation++;
      return { operation_id: c.operation, status: wait ? 'completed' : 'acknowledged' };
    };

    if (parts.length === 0 && method === 'GET') {
      this.sendJson(res, 200, {
        title: 'qdrant - vector search engine',
        version: '1.19.0',
        commit: 'standin',
      });
      return;
    }
    if (parts.length === 1 && ['healthz', 'livez', 'readyz'].includes(parts[0]!)) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${parts[0]} check passed`);
      return;
    }
    if (parts.length === 1 && parts[0] === 'aliases' && method === 'GET') {
      const aliases = [...this.aliases].map(([alias_name, collection_name]) => ({
        alias_name,
        collection_name,
      }));
      return this.ok(res, { aliases }, t0);
    }
    if (parts[0] !== 'collections') throw new JsonError(404, `Not found: ${url.pathname}`);
    if (parts.length === 2 && parts[1] === 'aliases' && method === 'POST') {
      this.updateAliases(b);
      return this.ok(res, true, t0);
    }
    if (parts.length === 1 && method === 'GET') {
      return this.ok(res, { collections: [...this.collections.keys()].map((name) => ({ name })) }, t0);
    }
    const name = parts[1]!;
    const rest = parts.slice(2).join('/');
    const route = `${method} ${rest}`;

    switch (route) {
      case 'GET ':
        return this.ok(res, collectionInfo(this.collection(name)), t0);
      case 'GET exists':
        return this.ok(res, { exists: this.collections.has(this.resolve(name)) }, t0);
      case 'GET aliases': {
        const aliases = [...this.aliases]
          .filter(([, target]) => target === name)
          .map(([alias_name, collection_name]) => ({ alias_name, collection_name }));
        return this.ok(res, { aliases }, t0);
      }
      case 'PUT ':
        this.create(name, b);
        return this.ok(res, true, t0);
      case 'DELETE ': {
        // By its own name only (an alias name deletes nothing, `false`); its aliases go with it.
        const deleted = this.collections.delete(name);
        if (deleted)
          for (const [alias, target] of this.aliases) if (target === name) this.aliases.delete(alias);
        return this.ok(res, deleted, t0);
      }
      case 'PUT index': {
        const c = this.collection(name);
        const field = b.field_name;
        if (typeof field !== 'string') throw formatError('missing field `field_name`');
        const schema = b.field_schema;
        const type =
          typeof schema === 'string' ? schema : ((schema as Json | undefined)?.type as string | undefined);
        if (!type) throw formatError('missing field `field_schema`');
        c.payloadSchema.set(field, type);
        c.index.declare(field, type);
        return this.ok(res, update(c), t0);
      }
      case 'PUT points':
        return this.ok(res, this.upsert(this.collection(name), b, update), t0);
      case 'POST points': {
        const c = this.collection(name);
        const ids = (b.ids as unknown[] | undefined) ?? [];
        const records = ids
          .map((id) => c.points.get(idKey(normaliseId(id))))
          .filter((p): p is StoredPoint => !!p)
          .map((p) => record(p, b.with_payload ?? true, b.with_vector ?? false));
        return this.ok(res, records, t0);
      }
      case 'POST points/delete': {
        const c = this.collection(name);
        for (const p of this.selectPoints(c, b)) {
          c.index.remove(p);
          c.points.delete(idKey(p.id));
        }
        c.idf.clear();
        return this.ok(res, update(c), t0);
      }
      case 'POST points/payload':
      case 'PUT points/payload': {
        const c = this.collection(name);
        if (!b.payload || typeof b.payload !== 'object') throw formatError('missing field `payload`');
        const op = update(c);
        for (const p of this.selectPoints(c, b)) {
          c.index.remove(p);
          p.payload =
            method === 'PUT' ? { ...(b.payload as Json) } : { ...p.payload, ...(b.payload as Json) };
          p.version = c.operation;
          c.index.add(p);
        }
        return this.ok(res, op, t0);
      }
      case 'POST points/scroll':
        return this.ok(res, this.scroll(this.collection(name), b), t0);
      case 'POST points/count': {
        const c = this.collection(name);
        const count = filtered(c, b.filter as Json).length;
        return this.ok(res, { count }, t0);
      }
      case 'POST points/query':
        return this.ok(res, { points: query(this.collection(name), b) }, t0);
      case 'POST points/query/batch': {
        const c = this.collection(name);
        const searches = b.searches as Json[] | undefined;
        if (!Array.isArray(searches)) throw formatError('missing field `searches`');
        return this.ok(
          res,
          searches.map((s) => ({ points: query(c, s) })),
          t0,
        );
      }
      default: {
        const id = /^GET points\/(.+)$/.exec(route)?.[1];
        if (id) {
          const c = this.collection(name);
          const p = c.points.get(idKey(normaliseId(/^\d+$/.test(id) ? Number(id) : id)));
          if (!p) throw new JsonError(404, `Not found: No point with id ${id} found`);
          return this.ok(res, record(p, true, true), t0);
        }
        throw new JsonError(404, `Not found: ${method} ${url.pathname}`);
      }
    }
  };

  /**
   * `POST /collections/aliases`: the actions in order, under one lock in Qdrant (no search sees a
   * half-switched alias). Like Qdrant, an action that fails leaves the earlier ones applied.
   */
  private updateAliases(b: Json): void {
    const actions = b.actions;
    if (!Array.isArray(actions)) throw formatError('missing field `actions`');
    for (const raw of actions as Json[]) {
      const keys = raw && typeof raw === 'object' ? Object.keys(raw) : [];
      if (keys.length !== 1)
        throw formatError('data did not match any variant of untagged enum AliasOperations');
      const op = raw[keys[0]!] as Json | null;
      const field = (f: string): string => {
        const v = op?.[f];
        if (typeof v !== 'string') throw formatError(`missing field \`${f}\``);
        return v;
      };
      if (keys[0] === 'create_alias') {
        const collection = field('collection_name');
        const alias = field('alias_name');
        if (!this.collections.has(collection))
          throw new JsonError(404, `Not found: Collection \`${collection}\` doesn't exist!`);
        if (this.collections.has(alias)) throw badRequest(`Collection \`${alias}\` already exists!`);
        this.aliases.set(alias, collection);
      } else if (keys[0] === 'delete_alias') {
        this.aliases.delete(field('alias_name'));
      } else if (keys[0] === 'rename_alias') {
        const from = field('old_alias_name');
        const to = field('new_alias_name');
        const target = this.aliases.get(from);
        if (target === undefined) throw new JsonError(404, `Not found: Alias ${from} does not exists!`);
        this.aliases.delete(from);
        this.aliases.set(to, target);
      } else throw formatError('data did not match any variant of untagged enum AliasOperations');
    }
  }

  private create(name: string, b: Json): void {
    if (this.collections.has(name))
      throw new JsonError(409, `Wrong input: Collection \`${name}\` already exists!`);
    if (this.aliases.has(name))
      throw badRequest(`Can't create collection with name ${name}. Alias with the same name already exists`);
    this.collections.set(name, createCollection(name, b));
  }

  private upsert(c: Collection, b: Json, update: (c: Collection) => Json): Json {
    if (!Array.isArray(b.points)) {
      if (b.batch) throw badRequest('the stand-in only accepts the `points` form of upsert');
      throw formatError('missing field `points`');
    }
    // Validate everything first: Qdrant rejects the whole request on one bad point.
    const prepared = (b.points as Json[]).map((p) => ({
      id: normaliseId(p.id),
      ...vectorsOf(c, p.vector),
      payload: (p.payload as Json | null) ?? {},
    }));
    const result = update(c);
    for (const p of prepared) {
      const key = idKey(p.id);
      const old = c.points.get(key);
      if (old) c.index.remove(old);
      const point = { ...p, version: c.operation };
      c.points.set(key, point);
      c.index.add(point);
    }
    c.idf.clear();
    return result;
  }

  private selectPoints(c: Collection, b: Json): StoredPoint[] {
    if (Array.isArray(b.points)) {
      return b.points.map((id) => c.points.get(idKey(normaliseId(id)))).filter((p): p is StoredPoint => !!p);
    }
    if (b.filter) return filtered(c, b.filter as Json);
    throw formatError('expected `points` or `filter`');
  }

  private scroll(c: Collection, b: Json): Json {
    const limit = (b.limit as number | undefined) ?? 10;
    const sorted = filtered(c, b.filter as Json).sort((x, y) => compareIds(x.id, y.id));
    const start =
      b.offset == null ? 0 : sorted.findIndex((p) => compareIds(p.id, normaliseId(b.offset)) >= 0);
    const page = start < 0 ? [] : sorted.slice(start, start + limit);
    const next = start < 0 ? undefined : sorted[start + limit];
    return {
      points: page.map((p) => record(p, b.with_payload ?? true, b.with_vector ?? false)),
      next_page_offset: next ? next.id : null,
    };
  }
}

export async function startQdrantStandin(): Promise<QdrantStandin> {
  return new QdrantStandin().start();
}
