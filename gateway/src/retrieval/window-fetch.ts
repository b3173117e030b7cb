/**
 * Fetching passage windows' neighbours (VectorIndex.chunksInRanges) early: while Postgres
 * re-checks access, for the passages the hits would give if every one were confirmed; afterwards
 * only what the real selection needs beyond that (when the check dropped a hit, a later one moves
 * up). What is fetched early is never used for a document the check did not confirm (retrieve.ts).
 */
import type { ChunkPayload, ChunkRange, VectorIndex } from '@rattgllm/core';
import type { WindowCache } from '../lib/cache/window-cache.js';
import type { Passage } from './context.js';
import type { Selection } from './select.js';
import { windowRanges } from './window.js';

export type FetchWindows = (ranges: ChunkRange[]) => Promise<ChunkPayload[]>;

export interface EarlyWindows {
  ranges: ChunkRange[];
  chunks: Promise<ChunkPayload[]>;
}

const rangeKey = (r: ChunkRange) => `${r.documentId}:${r.version}:${r.from}:${r.to}`;

/** The passages (and their `also`) of a selection, as windowRanges takes them. */
export const withAlso = (passages: readonly Passage[]): Passage[] =>
  passages.flatMap((p) => [p, ...(p.also ?? [])]);

/** Starts fetching the windows of `guess`'s passages; undefined when there are none. */
export function startWindows(
  guess: Selection,
  budgetTokens: number,
  fetch: FetchWindows,
): EarlyWindows | undefined {
  const ranges = windowRanges(withAlso(guess.passages), guess.versionOf, budgetTokens);
  if (ranges.length === 0) return undefined;
  const chunks = fetch(ranges);
  // Awaited only if the check succeeds; a failed check must not leave a rejection unhandled.
  chunks.catch(() => {});
  return { ranges, chunks };
}

/** The chunks of `ranges`: the early fetch's, plus one more fetch for the ranges it did not hold. */
export async function windowChunks(
  ranges: readonly ChunkRange[],
  early: EarlyWindows | undefined,
  fetch: FetchWindows,
): Promise<ChunkPayload[]> {
  const have = new Set(early?.ranges.map(rangeKey));
  const missing = ranges.filter((r) => !have.has(rangeKey(r)));
  const [got, more] = await Promise.all([early?.chunks ?? [], missing.length ? fetch(missing) : []]);
  return more.length ? [...got, ...more] : got;
}

/** Qdrant's chunks of `ranges`, the ones the window cache holds from memory (lib/cache/window-cache.ts). */
export async function cachedChunks(
  cache: WindowCache | undefined,
  index: Pick<VectorIndex, 'collection' | 'chunksInRanges'>,
  principals: string[],
  ranges: ChunkRange[],
): Promise<ChunkPayload[]> {
  if (!cache?.enabled) return index.chunksInRanges(principals, ranges);
  const { chunks, missing } = cache.lookup(index.collection, principals, ranges);
  if (missing.length === 0) return chunks;
  const since = cache.begin();
  const fetched = await index.chunksInRanges(principals, missing);
  cache.store(index.collection, since, missing, fetched);
  return chunks.length ? [...chunks, ...fetched] : fetched;
}
