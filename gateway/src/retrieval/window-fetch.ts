/**
 * The chunks one retrieval's passage windows are built from (VectorIndex.pointsInRanges, through
 * the window cache). The search's kept hits come with where their chunks lie, so their payloads
 * and the neighbours around them are fetched in one request (hybridSearch's `payloads`),
 * replacing the retrieve by ids: no extra round trip for windows. How far around a hit to fetch
 * is a guess (the text that sets a window's reach is not known yet); growth then reports every
 * neighbour it looked up, and a look-up in a range the guess did not cover is fetched and the
 * windows built again, so the windows are exactly what the full ranges would give
 * (retrieve.ts). Nothing here decides who may read what: Qdrant's filter and the window cache's
 * principal check bound what is fetched, Postgres's answer what is used (retrieve.ts).
 */
import type { ChunkPayload, ChunkRange, PointRef, StoredChunk, VectorIndex } from '@rattgllm/core';
import type { WindowCache } from '../lib/cache/window-cache.js';
import type { Passage } from './context.js';
import { MAX_WINDOW_RADIUS } from './window.js';

export type FetchPoints = (ranges: ChunkRange[]) => Promise<StoredChunk[]>;

/** The passages (and their `also`) of a selection, as windowRanges takes them. */
export const withAlso = (passages: readonly Passage[]): Passage[] =>
  passages.flatMap((p) => [p, ...(p.also ?? [])]);

type Interval = [number, number];
const versionKey = (documentId: string, version: number) => `${documentId}:${version}`;

/** Intervals merged (overlapping or adjacent), sorted. */
function merge(intervals: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [a, b] of intervals.sort((x, y) => x[0] - y[0])) {
    const last = out.at(-1);
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function byVersion(ranges: readonly ChunkRange[]): Map<string, Interval[]> {
  const m = new Map<string, Interval[]>();
  for (const r of ranges) {
    const k = versionKey(r.documentId, r.version);
    (m.get(k) ?? m.set(k, []).get(k)!).push([r.from, r.to]);
  }
  for (const [k, v] of m) m.set(k, merge(v));
  return m;
}

const inside = (intervals: readonly Interval[] | undefined, i: number) =>
  intervals?.some(([a, b]) => a <= i && i <= b) ?? false;

/** Whether chunk `index` of that document version lies in one of `ranges`. */
export function inRanges(
  ranges: readonly ChunkRange[],
): (documentId: string, version: number, index: number) => boolean {
  const m = byVersion(ranges);
  return (documentId, version, index) => inside(m.get(versionKey(documentId, version)), index);
}

/** Chunks fetched for one retrieval, and the index ranges they hold whole. */
export class WindowPool {
  private readonly byId = new Map<string, StoredChunk>();
  private covered = new Map<string, Interval[]>();

  add(ranges: readonly ChunkRange[], chunks: readonly StoredChunk[]): void {
    for (const c of chunks) this.byId.set(c.id, c);
    const more = byVersion(ranges);
    for (const [k, v] of more) this.covered.set(k, merge([...(this.covered.get(k) ?? []), ...v]));
  }

  /** Whether chunk `index` of this version, if it exists, is held. */
  holds(documentId: string, version: number, index: number): boolean {
    return inside(this.covered.get(versionKey(documentId, version)), index);
  }

  payload(id: string): ChunkPayload | undefined {
    return this.byId.get(id)?.payload;
  }

  /** The parts of `ranges` not held. */
  uncovered(ranges: readonly ChunkRange[]): ChunkRange[] {
    const out: ChunkRange[] = [];
    for (const [k, intervals] of byVersion(ranges)) {
      const held = this.covered.get(k) ?? [];
      const sep = k.lastIndexOf(':');
      const documentId = k.slice(0, sep);
      const version = Number(k.slice(sep + 1));
      for (const [from, to] of intervals) {
        let at = from;
        for (const [a, b] of held) {
          if (b < at || a > to) continue;
          if (a > at) out.push({ documentId, version, from: at, to: a - 1 });
          at = Math.max(at, b + 1);
        }
        if (at <= to) out.push({ documentId, version, from: at, to });
      }
    }
    return out;
  }

  /** The chunks held inside `ranges`, of documents `keep` accepts (what the full ranges' fetch would give). */
  within(ranges: readonly ChunkRange[], keep: (documentId: string) => boolean): ChunkPayload[] {
    const wanted = byVersion(ranges);
    const out: ChunkPayload[] = [];
    for (const { payload: c } of this.byId.values())
      if (keep(c.document_id) && inside(wanted.get(versionKey(c.document_id, c.version)), c.chunk_index))
        out.push(c);
    return out;
  }
}

/**
 * How far around a hit its first fetch reaches: the farthest neighbour windows looked up in the
 * last few retrievals (one chunk past the last that fit), MAX_WINDOW_RADIUS before any. A guess
 * too short costs one more fetch, never a different window.
 */
export class ReachGuess {
  private readonly recent: number[] = [];
  private current = 0;

  get value(): number {
    return this.recent.length ? Math.min(MAX_WINDOW_RADIUS, Math.max(...this.recent)) : MAX_WINDOW_RADIUS;
  }

  see(reach: number): void {
    if (reach > this.current) this.current = reach;
  }

  /** One retrieval's windows are built: what they reached joins the last 16. */
  done(): void {
    this.recent.push(this.current);
    if (this.recent.length > 16) this.recent.shift();
    this.current = 0;
  }
}

/**
 * Fetches the hits' chunks and `reach` chunks each side into `pool`; resolves the hits' payloads
 * by point id. A hit the fetch did not return (its range was served by the window cache from
 * another point at that index, or it is gone) is asked of Qdrant alone, by its own index.
 */
export async function fetchAround(
  pool: WindowPool,
  refs: readonly PointRef[],
  reach: number,
  fetch: FetchPoints,
  fetchDirect: FetchPoints,
): Promise<Map<string, ChunkPayload>> {
  const around = refs.map((r) => ({
    documentId: r.documentId,
    version: r.version,
    from: Math.max(0, r.chunkIndex - reach),
    to: r.chunkIndex + reach,
  }));
  const missing = pool.uncovered(around);
  if (missing.length) pool.add(missing, await fetch(missing));
  const lost = refs.filter((r) => !pool.payload(r.id));
  if (lost.length)
    pool.add(
      [],
      await fetchDirect(
        lost.map((r) => ({
          documentId: r.documentId,
          version: r.version,
          from: r.chunkIndex,
          to: r.chunkIndex,
        })),
      ),
    );
  const out = new Map<string, ChunkPayload>();
  for (const r of refs) {
    const p = pool.payload(r.id);
    if (p) out.set(r.id, p);
  }
  return out;
}

export type Probe = (p: Passage, version: number, index: number, found: boolean) => void;

/**
 * `widen` (widenPassages over the chunks given) on what `pool` holds of `ranges` (the selection's
 * windows), of documents `keep` accepts: exactly what the full ranges' fetch would give. A window
 * that looked up a chunk of its ranges the pool does not hold (the first fetch's reach was short)
 * has the rest fetched, and all are built again. `reach` learns how far windows looked.
 */
export async function widenFromPool(
  pool: WindowPool,
  ranges: readonly ChunkRange[],
  keep: (documentId: string) => boolean,
  widen: (chunks: readonly ChunkPayload[], probe: Probe) => Passage[],
  fetch: FetchPoints,
  reach?: ReachGuess,
): Promise<{ passages: Passage[]; fetchMs: number }> {
  const inWindows = inRanges(ranges);
  let short = false;
  const probe: Probe = (p, version, index, found) => {
    reach?.see(Math.abs(index - p.chunkIndex));
    if (!found && !pool.holds(p.documentId, version, index) && inWindows(p.documentId, version, index))
      short = true;
  };
  let passages = widen(pool.within(ranges, keep), probe);
  let fetchMs = 0;
  if (short) {
    const t = performance.now();
    const missing = pool.uncovered(ranges);
    pool.add(missing, await fetch(missing));
    fetchMs = performance.now() - t;
    passages = widen(pool.within(ranges, keep), probe);
  }
  reach?.done();
  return { passages, fetchMs };
}

/** Qdrant's chunks of `ranges`, the ones the window cache holds from memory (lib/cache/window-cache.ts). */
export async function cachedPoints(
  cache: WindowCache | undefined,
  index: Pick<VectorIndex, 'collection' | 'pointsInRanges'>,
  principals: string[],
  ranges: ChunkRange[],
): Promise<StoredChunk[]> {
  if (!cache?.enabled) return index.pointsInRanges(principals, ranges);
  const { chunks, missing } = cache.lookup(index.collection, principals, ranges);
  if (missing.length === 0) return chunks;
  const since = cache.begin();
  const fetched = await index.pointsInRanges(principals, missing);
  cache.store(index.collection, since, missing, fetched);
  return chunks.length ? [...chunks, ...fetched] : fetched;
}
