/**
 * An in-process stand-in for Qdrant (REST API of v1.19) covering everything rattgllm calls:
 * collections (create, get, exists, list, delete), aliases (`POST /collections/aliases` with
 * create/delete/rename actions, `GET /aliases`, `GET /collections/{name}/aliases`; every
 * collection route resolves an alias first, as Qdrant's resolve_name does), payload indexes, points upsert / retrieve /
 * delete (ids or filter) / set and overwrite payload / scroll / count, and the Query API with
 * nested prefetch, RRF fusion, dense cosine and sparse (IDF-modified) dot-product scoring.
 * Paths, field names, status codes, the `{result, status, time}` envelope and the
 * `{status: {error}}` error bodies follow Qdrant's server; the contract test checks them against
 * Qdrant's OpenAPI document. Search is exact (brute force), which real HNSW only approximates.
 * Like Qdrant, tied scores come back in varying order; unlike Qdrant, IDF counts only live points.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonError, StandinServer } from './server.js';

type Json = Record<string, unknown>;
type PointId = string | number;
type Sparse = { indices: number[]; values: number[] };

interface StoredPoint {
  id: PointId;
  version: number;
  dense: Map<string, number[]>;
  sparse: Map<string, Sparse>;
  payload: Json;
}

interface DenseParams {
  size: number;
  distance: 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';
}

interface Collection {
  name: string;
  vectors: Record<string, DenseParams>;
  sparseVectors: Record<string, { modifier?: 'idf' | 'none' }>;
  payloadSchema: Map<string, string>;
  points: Map<string, StoredPoint>;
  operation: number;
  createdAt: number;
}

interface ScoredPoint {
  point: StoredPoint;
  score: number;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** Qdrant's `rrf` constant when the request does not set `k` (lib/segment/src/common/reciprocal_rank_fusion.rs). */
const DEFAULT_RRF_K = 2;

/** Fisher–Yates, for the order of tied hits (see runQuery). */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const badRequest = (message: string) => new JsonError(400, `Wrong input: ${message}`);
const formatError = (message: string) => new JsonError(400, `Format error in JSON body: ${message}`);

/** Qdrant prints UUIDs lower-case and hyphenated however they were sent. */
function normaliseId(id: unknown): PointId {
  if (typeof id === 'number' && Number.isInteger(id) && id >= 0) return id;
  if (typeof id === 'string' && UUID.test(id)) {
    const h = id.replace(/-/g, '').toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  throw formatError(
    `value ${JSON.stringify(id)} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

const idKey = (id: PointId) => (typeof id === 'number' ? `n:${id}` : `u:${id}`);

/** Qdrant orders numeric ids before UUIDs, each ascending (scroll order). */
function compareIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n === 0 ? v.slice() : v.map((x) => x / n);
}

/** Values at a payload path; `a.b` descends objects, arrays are flattened (Qdrant's semantics). */
function valuesAt(payload: Json, key: string): unknown[] {
  let current: unknown[] = [payload];
  for (const part of key.replace(/\[\]/g, '').split('.')) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c && typeof c === 'object' && !Array.isArray(c) && part in (c as Json)) {
        const v = (c as Json)[part];
        if (Array.isArray(v)) next.push(...v);
        else next.push(v);
      }
    }
    current = next;
  }
  return current;
}

function matchCondition(point: StoredPoint, cond: Json): boolean {
  if ('must' in cond || 'should' in cond || 'must_not' in cond || 'min_should' in cond) {
    if (!('key' in cond)) return matchFilter(point, cond);
  }
  if ('has_id' in cond) {
    const ids = (cond.has_id as unknown[]).map((i) => idKey(normaliseId(i)));
    return ids.includes(idKey(point.id));
  }
  if ('is_empty' in cond) {
    const values = valuesAt(point.payload, (cond.is_empty as Json).key as string).filter((v) => v !== null);
    return values.length === 0;
  }
  if ('is_null' in cond) {
    return valuesAt(point.payload, (cond.is_null as Json).key as string).some((v) => v === null);
  }
  if ('nested' in cond) throw badRequest('nested conditions are not supported by the stand-in');
  const key = cond.key;
  if (typeof key !== 'string') throw formatError(`unknown condition ${JSON.stringify(cond)}`);
  const values = valuesAt(point.payload, key).filter((v) => v !== null && v !== undefined);
  if (cond.match) {
    const m = cond.match as Json;
    if ('value' in m) return values.some((v) => v === m.value);
    if ('any' in m) return values.some((v) => (m.any as unknown[]).includes(v));
    // `except` is NOT IN over the stored values; a point without the field does not match.
    if ('except' in m) return values.some((v) => !(m.except as unknown[]).includes(v));
    if ('text' in m) return values.some((v) => typeof v === 'string' && v.includes(m.text as string));
    throw formatError(`unknown match ${JSON.stringify(m)}`);
  }
  if (cond.range) {
    const r = cond.range as { gt?: number; gte?: number; lt?: number; lte?: number };
    return values.some(
      (v) =>
        typeof v === 'number' &&
        (r.gt == null || v > r.gt) &&
        (r.gte == null || v >= r.gte) &&
        (r.lt == null || v < r.lt) &&
        (r.lte == null || v <= r.lte),
    );
  }
  if (cond.values_count) {
    const c = cond.values_count as { gt?: number; gte?: number; lt?: number; lte?: number };
    const n = values.length;
    return (
      (c.gt == null || n > c.gt) &&
      (c.gte == null || n >= c.gte) &&
      (c.lt == null || n < c.lt) &&
      (c.lte == null || n <= c.lte)
    );
  }
  throw formatError(`unsupported condition ${JSON.stringify(cond)}`);
}

const asList = (x: unknown): Json[] => (x == null ? [] : Array.isArray(x) ? (x as Json[]) : [x as Json]);

export function matchFilter(point: StoredPoint, filter: Json | null | undefined): boolean {
  if (!filter) return true;
  if (!asList(filter.must).every((c) => matchCondition(point, c))) return false;
  const should = asList(filter.should);
  if (should.length && !should.some((c) => matchCondition(point, c))) return false;
  if (filter.min_should) {
    const ms = filter.min_should as { conditions: Json[]; min_count: number };
    if (ms.conditions.filter((c) => matchCondition(point, c)).length < ms.min_count) return false;
  }
  if (asList(filter.must_not).some((c) => matchCondition(point, c))) return false;
  return true;
}

/** Root and prefetch filters both hold (Qdrant propagates the root filter into every prefetch). */
function andFilters(a: Json | undefined, b: Json | undefined): Json | undefined {
  if (!a) return b;
  if (!b) return a;
  return { must: [a, b] };
}

function selectPayload(payload: Json, selector: unknown): Json | undefined {
  if (selector === undefined || selector === false) return undefined;
  if (selector === true) return payload;
  const pick = (keys: string[]) =>
    Object.fromEntries(keys.filter((k) => k in payload).map((k) => [k, payload[k]]));
  if (Array.isArray(selector)) return pick(selector as string[]);
  const s = selector as { include?: string[]; exclude?: string[] };
  if (s.include) return pick(s.include);
  if (s.exclude) return Object.fromEntries(Object.entries(payload).filter(([k]) => !s.exclude!.includes(k)));
  return payload;
}

function selectVector(point: StoredPoint, selector: unknown): Json | undefined {
  if (!selector) return undefined;
  const all: Json = {};
  for (const [k, v] of point.dense) all[k] = v;
  for (const [k, v] of point.sparse) all[k] = v;
  if (Array.isArray(selector))
    return Object.fromEntries(Object.entries(all).filter(([k]) => selector.includes(k)));
  return all;
}

export class QdrantStandin extends StandinServer {
  readonly collections = new Map<string, Collection>();
  /** alias name → collection name (Qdrant's alias_persistence). */
  readonly aliases = new Map<string, string>();
  private readonly started = Date.now();

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
        return this.ok(res, this.info(this.collection(name)), t0);
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
          .map((p) => this.record(p, b.with_payload ?? true, b.with_vector ?? false));
        return this.ok(res, records, t0);
      }
      case 'POST points/delete': {
        const c = this.collection(name);
        for (const p of this.selectPoints(c, b)) c.points.delete(idKey(p.id));
        return this.ok(res, update(c), t0);
      }
      case 'POST points/payload':
      case 'PUT points/payload': {
        const c = this.collection(name);
        if (!b.payload || typeof b.payload !== 'object') throw formatError('missing field `payload`');
        const op = update(c);
        for (const p of this.selectPoints(c, b)) {
          p.payload =
            method === 'PUT' ? { ...(b.payload as Json) } : { ...p.payload, ...(b.payload as Json) };
          p.version = c.operation;
        }
        return this.ok(res, op, t0);
      }
      case 'POST points/scroll':
        return this.ok(res, this.scroll(this.collection(name), b), t0);
      case 'POST points/count': {
        const c = this.collection(name);
        const count = [...c.points.values()].filter((p) => matchFilter(p, b.filter as Json)).length;
        return this.ok(res, { count }, t0);
      }
      case 'POST points/query':
        return this.ok(res, { points: this.query(this.collection(name), b) }, t0);
      case 'POST points/query/batch': {
        const c = this.collection(name);
        const searches = b.searches as Json[] | undefined;
        if (!Array.isArray(searches)) throw formatError('missing field `searches`');
        return this.ok(
          res,
          searches.map((s) => ({ points: this.query(c, s) })),
          t0,
        );
      }
      default: {
        const id = /^GET points\/(.+)$/.exec(route)?.[1];
        if (id) {
          const c = this.collection(name);
          const p = c.points.get(idKey(normaliseId(/^\d+$/.test(id) ? Number(id) : id)));
          if (!p) throw new JsonError(404, `Not found: No point with id ${id} found`);
          return this.ok(res, this.record(p, true, true), t0);
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
    if (!/^[A-Za-z0-9_.-]{1,255}$/.test(name)) throw badRequest(`Collection name \`${name}\` is not valid`);
    const vectors: Record<string, DenseParams> = {};
    const raw = b.vectors as Json | undefined;
    const check = (params: Json, vname: string) => {
      if (typeof params.size !== 'number' || params.size < 1)
        throw formatError(`vectors.${vname}.size: must be a positive integer`);
      if (!['Cosine', 'Dot', 'Euclid', 'Manhattan'].includes(params.distance as string)) {
        throw formatError(
          `unknown variant \`${String(params.distance)}\`, expected one of \`Cosine\`, \`Euclid\`, \`Dot\`, \`Manhattan\``,
        );
      }
      vectors[vname] = { size: params.size, distance: params.distance as DenseParams['distance'] };
    };
    if (raw && 'size' in raw) check(raw, '');
    else if (raw) for (const [k, v] of Object.entries(raw)) check(v as Json, k);
    const sparseVectors: Collection['sparseVectors'] = {};
    for (const [k, v] of Object.entries((b.sparse_vectors as Json | undefined) ?? {})) {
      const modifier = (v as Json | null)?.modifier as 'idf' | 'none' | undefined;
      if (modifier && modifier !== 'idf' && modifier !== 'none')
        throw formatError(`unknown modifier \`${modifier}\``);
      sparseVectors[k] = modifier ? { modifier } : {};
    }
    this.collections.set(name, {
      name,
      vectors,
      sparseVectors,
      payloadSchema: new Map(),
      points: new Map(),
      operation: 0,
      createdAt: Date.now(),
    });
  }

  private info(c: Collection): Json {
    const vectors =
      '' in c.vectors
        ? { size: c.vectors['']!.size, distance: c.vectors['']!.distance }
        : Object.fromEntries(
            Object.entries(c.vectors).map(([k, v]) => [k, { size: v.size, distance: v.distance }]),
          );
    const payload_schema = Object.fromEntries(
      [...c.payloadSchema].map(([field, type]) => [
        field,
        {
          data_type: type,
          params: { type },
          points: [...c.points.values()].filter((p) => valuesAt(p.payload, field).length > 0).length,
        },
      ]),
    );
    // payload_schema params must be the index's own params object; keep only data_type + points for non-keyword.
    for (const entry of Object.values(payload_schema)) {
      if ((entry as Json).data_type !== 'keyword') delete (entry as Json).params;
    }
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 2,
      config: {
        params: {
          vectors,
          ...(Object.keys(c.sparseVectors).length ? { sparse_vectors: c.sparseVectors } : {}),
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: {
          m: 16,
          ef_construct: 100,
          full_scan_threshold: 10000,
          max_indexing_threads: 0,
          on_disk: false,
        },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 10000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: null,
      },
      payload_schema,
    };
  }

  private vectorsOf(
    c: Collection,
    raw: unknown,
  ): { dense: Map<string, number[]>; sparse: Map<string, Sparse> } {
    const dense = new Map<string, number[]>();
    const sparse = new Map<string, Sparse>();
    const entries: [string, unknown][] = Array.isArray(raw)
      ? [['', raw]]
      : Object.entries((raw as Json | undefined) ?? {});
    for (const [vname, value] of entries) {
      if (vname in c.vectors) {
        if (!Array.isArray(value) || !value.every((x) => typeof x === 'number')) {
          throw formatError(`vector \`${vname}\` must be an array of numbers`);
        }
        const params = c.vectors[vname]!;
        if (value.length !== params.size) {
          throw badRequest(`Vector dimension error: expected dim: ${params.size}, got ${value.length}`);
        }
        dense.set(vname, params.distance === 'Cosine' ? normalise(value) : value.slice());
      } else if (vname in c.sparseVectors) {
        const s = value as Sparse;
        if (!s || !Array.isArray(s.indices) || !Array.isArray(s.values))
          throw formatError(`sparse vector \`${vname}\` needs indices and values`);
        if (s.indices.length !== s.values.length) {
          throw badRequest(`Sparse vector error: indices and values must have the same length`);
        }
        if (new Set(s.indices).size !== s.indices.length)
          throw badRequest('Sparse vector error: indices must be unique');
        if (s.indices.some((i) => !Number.isInteger(i) || i < 0 || i > 0xffffffff)) {
          throw formatError('sparse vector indices must be unsigned 32-bit integers');
        }
        sparse.set(vname, { indices: s.indices.slice(), values: s.values.slice() });
      } else {
        throw badRequest(`Not existing vector name error: ${vname}`);
      }
    }
    return { dense, sparse };
  }

  private upsert(c: Collection, b: Json, update: (c: Collection) => Json): Json {
    if (!Array.isArray(b.points)) {
      if (b.batch) throw badRequest('the stand-in only accepts the `points` form of upsert');
      throw formatError('missing field `points`');
    }
    // Validate everything first: Qdrant rejects the whole request on one bad point.
    const prepared = (b.points as Json[]).map((p) => ({
      id: normaliseId(p.id),
      ...this.vectorsOf(c, p.vector),
      payload: (p.payload as Json | null) ?? {},
    }));
    const result = update(c);
    for (const p of prepared) c.points.set(idKey(p.id), { ...p, version: c.operation });
    return result;
  }

  private selectPoints(c: Collection, b: Json): StoredPoint[] {
    if (Array.isArray(b.points)) {
      return b.points.map((id) => c.points.get(idKey(normaliseId(id)))).filter((p): p is StoredPoint => !!p);
    }
    if (b.filter) return [...c.points.values()].filter((p) => matchFilter(p, b.filter as Json));
    throw formatError('expected `points` or `filter`');
  }

  private record(p: StoredPoint, withPayload: unknown, withVector: unknown): Json {
    const payload = selectPayload(p.payload, withPayload);
    const vector = selectVector(p, withVector);
    return { id: p.id, ...(payload ? { payload } : {}), ...(vector ? { vector } : {}) };
  }

  private scroll(c: Collection, b: Json): Json {
    const limit = (b.limit as number | undefined) ?? 10;
    const sorted = [...c.points.values()]
      .filter((p) => matchFilter(p, b.filter as Json))
      .sort((x, y) => compareIds(x.id, y.id));
    const start =
      b.offset == null ? 0 : sorted.findIndex((p) => compareIds(p.id, normaliseId(b.offset)) >= 0);
    const page = start < 0 ? [] : sorted.slice(start, start + limit);
    const next = start < 0 ? undefined : sorted[start + limit];
    return {
      points: page.map((p) => this.record(p, b.with_payload ?? true, b.with_vector ?? false)),
      next_page_offset: next ? next.id : null,
    };
  }

  /**
   * IDF as Qdrant computes it for `modifier: "idf"`: ln(1 + (N − n + 0.5) / (n + 0.5)).
   * Where it differs from Qdrant: N and n count only the points alive now. Qdrant counts points
   * deleted or overwritten but not yet removed by the segment optimizer, so right after deletes
   * its sparse scores (and the order of close hits) differ from these; tests must not assert
   * exact sparse scores after deleting or re-upserting points.
   */
  private idf(c: Collection, using: string, index: number): number {
    let n = 0;
    let total = 0;
    for (const p of c.points.values()) {
      const s = p.sparse.get(using);
      if (!s) continue;
      total++;
      if (s.indices.includes(index)) n++;
    }
    return Math.log(1 + (total - n + 0.5) / (n + 0.5));
  }

  private score(c: Collection, query: unknown, using: string, candidates: StoredPoint[]): ScoredPoint[] {
    if (Array.isArray(query)) {
      const params = c.vectors[using];
      if (!params) throw badRequest(`Not existing vector name error: ${using}`);
      if (query.length !== params.size)
        throw badRequest(`Vector dimension error: expected dim: ${params.size}, got ${query.length}`);
      const q = params.distance === 'Cosine' ? normalise(query as number[]) : (query as number[]);
      return candidates
        .filter((p) => p.dense.has(using))
        .map((p) => {
          const v = p.dense.get(using)!;
          let dot = 0;
          for (let i = 0; i < v.length; i++) dot += v[i]! * q[i]!;
          return { point: p, score: dot };
        });
    }
    const s = query as Sparse;
    if (!c.sparseVectors[using]) throw badRequest(`Not existing vector name error: ${using}`);
    const weights = new Map<number, number>();
    const useIdf = c.sparseVectors[using]!.modifier === 'idf';
    s.indices.forEach((i, k) => weights.set(i, s.values[k]! * (useIdf ? this.idf(c, using, i) : 1)));
    const out: ScoredPoint[] = [];
    for (const p of candidates) {
      const v = p.sparse.get(using);
      if (!v) continue;
      let score = 0;
      let overlap = false;
      v.indices.forEach((i, k) => {
        const w = weights.get(i);
        if (w !== undefined) {
          overlap = true;
          score += w * v.values[k]!;
        }
      });
      // Sparse search only returns points sharing at least one index with the query.
      if (overlap) out.push({ point: p, score });
    }
    return out;
  }

  /** One (possibly nested) query; `inherited` is the parent's filter pushed down into prefetches. */
  private runQuery(c: Collection, q: Json, inherited: Json | undefined): ScoredPoint[] {
    const filter = andFilters(inherited, q.filter as Json | undefined);
    const limit = (q.limit as number | undefined) ?? 10;
    const offset = (q.offset as number | undefined) ?? 0;
    const prefetches = asList(q.prefetch);
    const children = prefetches.map((p) => this.runQuery(c, p, filter));
    let query = q.query as unknown;
    if (query && typeof query === 'object' && !Array.isArray(query) && 'nearest' in (query as Json))
      query = (query as Json).nearest;
    let results: ScoredPoint[];
    if (
      query &&
      typeof query === 'object' &&
      !Array.isArray(query) &&
      ('fusion' in (query as Json) || 'rrf' in (query as Json))
    ) {
      const fusion = (query as Json).fusion;
      if (fusion !== undefined && fusion !== 'rrf') {
        throw new JsonError(501, `the stand-in implements only rrf fusion, not ${String(fusion)}`);
      }
      if (children.length === 0) throw badRequest('Fusion queries require prefetches');
      const k = ((query as Json).rrf as { k?: number } | undefined)?.k ?? DEFAULT_RRF_K;
      const fused = new Map<string, ScoredPoint>();
      for (const list of children) {
        list.forEach((sp, position) => {
          const add = 1 / (position + k);
          const key = idKey(sp.point.id);
          const prev = fused.get(key);
          fused.set(key, { point: sp.point, score: (prev?.score ?? 0) + add });
        });
      }
      results = [...fused.values()];
    } else if (query !== undefined && query !== null) {
      const using = (q.using as string | undefined) ?? '';
      const candidates =
        prefetches.length > 0
          ? [...new Map(children.flat().map((sp) => [idKey(sp.point.id), sp.point])).values()]
          : [...c.points.values()].filter((p) => matchFilter(p, filter));
      results = this.score(c, query, using, candidates);
      const threshold = q.score_threshold as number | undefined;
      if (threshold !== undefined) results = results.filter((r) => r.score >= threshold);
    } else {
      // No query: points in id order, like scroll, score 0.
      results = [...c.points.values()]
        .filter((p) => matchFilter(p, filter))
        .map((point) => ({ point, score: 0 }));
      results.sort((x, y) => compareIds(x.point.id, y.point.id));
      return results.slice(offset, offset + limit);
    }
    // Real Qdrant does not break ties (equal RRF or equal scores come back in an order that varies
    // between identical requests), so neither does the stand-in: a stable sort over a shuffled
    // list returns tied hits in a random order, and a test that depends on it fails here too.
    results = shuffled(results);
    results.sort((x, y) => y.score - x.score);
    return results.slice(offset, offset + limit);
  }

  private query(c: Collection, q: Json): Json[] {
    return this.runQuery(c, q, undefined).map(({ point, score }) => {
      const payload = selectPayload(point.payload, q.with_payload ?? false);
      const vector = selectVector(point, q.with_vector ?? false);
      return {
        id: point.id,
        version: point.version,
        score,
        ...(payload ? { payload } : {}),
        ...(vector ? { vector } : {}),
      };
    });
  }
}

export async function startQdrantStandin(): Promise<QdrantStandin> {
  return new QdrantStandin().start();
}
