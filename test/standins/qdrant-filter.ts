/**
 * The Qdrant stand-in's payload filters (qdrant.ts): `must` / `should` / `must_not` / `min_should`,
 * field conditions (match value / any / except / text, range, values_count, is_empty, is_null,
 * has_id) with Qdrant's path semantics (`a.b` descends objects, arrays are flattened), and the
 * point ids and error bodies the filters share with the routes.
 */
import { JsonError } from './server.js';

export type Json = Record<string, unknown>;
export type PointId = string | number;
export type Sparse = { indices: number[]; values: number[] };

export interface StoredPoint {
  id: PointId;
  version: number;
  dense: Map<string, number[]>;
  sparse: Map<string, Sparse>;
  payload: Json;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export const badRequest = (message: string) => new JsonError(400, `Wrong input: ${message}`);
export const formatError = (message: string) => new JsonError(400, `Format error in JSON body: ${message}`);

/** Qdrant prints UUIDs lower-case and hyphenated however they were sent. */
export function normaliseId(id: unknown): PointId {
  if (typeof id === 'number' && Number.isInteger(id) && id >= 0) return id;
  if (typeof id === 'string' && UUID.test(id)) {
    const h = id.replace(/-/g, '').toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  throw formatError(
    `value ${JSON.stringify(id)} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

export const idKey = (id: PointId) => (typeof id === 'number' ? `n:${id}` : `u:${id}`);

/** Qdrant orders numeric ids before UUIDs, each ascending (scroll order). */
export function compareIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Values at a payload path; `a.b` descends objects, arrays are flattened (Qdrant's semantics). */
const paths = new Map<string, string[]>();

export function valuesAt(payload: Json, key: string): unknown[] {
  let parts = paths.get(key);
  if (!parts) paths.set(key, (parts = key.replace(/\[\]/g, '').split('.')));
  let current: unknown[] = [payload];
  for (const part of parts) {
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

export const asList = (x: unknown): Json[] =>
  x == null ? [] : Array.isArray(x) ? (x as Json[]) : [x as Json];

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
export function andFilters(a: Json | undefined, b: Json | undefined): Json | undefined {
  if (!a) return b;
  if (!b) return a;
  return { must: [a, b] };
}
