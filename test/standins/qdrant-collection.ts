/**
 * A Qdrant stand-in collection (qdrant.ts): its configuration as created (`PUT /collections/{name}`,
 * validated like Qdrant's), its info (`GET /collections/{name}`), points' vectors as upserted, and
 * the payload / vector selectors of every answer that returns points.
 */
import {
  badRequest,
  formatError,
  valuesAt,
  type Json,
  type Sparse,
  type StoredPoint,
} from './qdrant-filter.js';
import { PayloadIndex } from './qdrant-index.js';

export interface DenseParams {
  size: number;
  distance: 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';
}

export interface Collection {
  name: string;
  vectors: Record<string, DenseParams>;
  sparseVectors: Record<string, { modifier?: 'idf' | 'none' }>;
  payloadSchema: Map<string, string>;
  points: Map<string, StoredPoint>;
  /** The payload indexes of `payloadSchema`, over `points` (qdrant-index.ts). */
  index: PayloadIndex;
  /** IDF by sparse vector and term as computed since the last write of points (qdrant-query.ts). */
  idf: Map<string, number>;
  operation: number;
  createdAt: number;
}

/** A new, empty collection from a `PUT /collections/{name}` body (the name's uniqueness is the caller's). */
export function createCollection(name: string, b: Json): Collection {
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
  const points = new Map<string, StoredPoint>();
  return {
    name,
    vectors,
    sparseVectors,
    payloadSchema: new Map(),
    points,
    index: new PayloadIndex(points),
    idf: new Map(),
    operation: 0,
    createdAt: Date.now(),
  };
}

export function collectionInfo(c: Collection): Json {
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

export function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n === 0 ? v.slice() : v.map((x) => x / n);
}

export function vectorsOf(
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

export function selectPayload(payload: Json, selector: unknown): Json | undefined {
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

export function selectVector(point: StoredPoint, selector: unknown): Json | undefined {
  if (!selector) return undefined;
  const all: Json = {};
  for (const [k, v] of point.dense) all[k] = v;
  for (const [k, v] of point.sparse) all[k] = v;
  if (Array.isArray(selector))
    return Object.fromEntries(Object.entries(all).filter(([k]) => selector.includes(k)));
  return all;
}

export function record(p: StoredPoint, withPayload: unknown, withVector: unknown): Json {
  const payload = selectPayload(p.payload, withPayload);
  const vector = selectVector(p, withVector);
  return { id: p.id, ...(payload ? { payload } : {}), ...(vector ? { vector } : {}) };
}
