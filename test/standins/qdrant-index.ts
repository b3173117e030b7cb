/**
 * Payload indexes of the Qdrant stand-in, used as Qdrant uses them: a filter whose `must` (or
 * every `should` branch) matches an indexed field by value reads its candidates from the index
 * instead of scanning every point, and the whole filter is then checked on those candidates alone.
 * Only fields the collection declared an index for (`PUT /collections/{name}/index`) are indexed,
 * so a query that filters on an unindexed field pays the full scan, as on a real Qdrant; answers
 * are the same either way. Keyword-like schemas are indexed by value (integer ranges scan).
 */
import { asList, idKey, matchFilter, valuesAt, type Json, type StoredPoint } from './qdrant-filter.js';

/** Schemas whose index answers `match: {value}` / `match: {any}` by lookup. */
const LOOKUP_SCHEMAS = new Set(['keyword', 'uuid', 'integer', 'bool']);

export class PayloadIndex {
  /** field → value → keys of the points holding it. */
  private readonly byField = new Map<string, Map<unknown, Set<string>>>();

  constructor(private readonly points: Map<string, StoredPoint>) {}

  /** `PUT index`: index `field` over the points already stored (Qdrant builds it at once too). */
  declare(field: string, schema: string): void {
    if (!LOOKUP_SCHEMAS.has(schema)) {
      this.byField.delete(field);
      return;
    }
    this.byField.set(field, new Map());
    for (const [key, p] of this.points) this.addTo(field, key, p);
  }

  /** Call when a point was stored, and again after its payload changed. */
  add(point: StoredPoint): void {
    const key = idKey(point.id);
    for (const field of this.byField.keys()) this.addTo(field, key, point);
  }

  /** Call when a point is deleted or replaced, and before its payload changes. */
  remove(point: StoredPoint): void {
    const key = idKey(point.id);
    for (const [field, values] of this.byField)
      for (const v of valuesAt(point.payload, field)) values.get(v)?.delete(key);
  }

  private addTo(field: string, key: string, point: StoredPoint): void {
    const values = this.byField.get(field)!;
    for (const v of valuesAt(point.payload, field)) {
      let keys = values.get(v);
      if (!keys) values.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Keys of points that may match `filter` (a superset), or undefined: every point. */
  candidates(filter: Json | null | undefined): Set<string> | undefined {
    if (!filter) return undefined;
    let best: Set<string> | undefined;
    const narrower = (s: Set<string> | undefined) => {
      if (s && (!best || s.size < best.size)) best = s;
    };
    for (const c of asList(filter.must)) narrower(this.ofCondition(c));
    const should = asList(filter.should);
    if (should.length) {
      const sets = should.map((c) => this.ofCondition(c));
      if (sets.every((s) => s !== undefined)) narrower(union(sets as Set<string>[]));
    }
    return best;
  }

  /**
   * Whether `candidates(filter)` is the answer itself (one indexed match and nothing else, the
   * access filter of every search): then no point's payload needs checking, as in Qdrant.
   */
  answers(filter: Json | null | undefined): boolean {
    if (!filter || Object.keys(filter).some((k) => k !== 'must')) return false;
    const must = asList(filter.must);
    return must.length === 1 && 'key' in must[0]! && this.ofCondition(must[0]!) !== undefined;
  }

  private ofCondition(cond: Json): Set<string> | undefined {
    if (!('key' in cond)) return 'must' in cond || 'should' in cond ? this.candidates(cond) : undefined;
    const values = typeof cond.key === 'string' ? this.byField.get(cond.key) : undefined;
    const m = cond.match as Json | undefined;
    if (!values || !m) return undefined;
    if ('value' in m) return values.get(m.value) ?? new Set();
    if ('any' in m && Array.isArray(m.any))
      return union(m.any.map((v) => values.get(v) ?? new Set<string>()));
    return undefined;
  }
}

function union(sets: Set<string>[]): Set<string> {
  if (sets.length === 1) return sets[0]!;
  const out = new Set<string>();
  for (const s of sets) for (const k of s) out.add(k);
  return out;
}

/** The collection's points matching `filter`, read through its payload indexes where they apply. */
export function filtered(
  c: { points: Map<string, StoredPoint>; index: PayloadIndex },
  filter: Json | null | undefined,
): StoredPoint[] {
  const keys = c.index.candidates(filter);
  const points = keys
    ? [...keys].map((k) => c.points.get(k)).filter((p): p is StoredPoint => p !== undefined)
    : [...c.points.values()];
  return filter && !(keys && c.index.answers(filter)) ? points.filter((p) => matchFilter(p, filter)) : points;
}
