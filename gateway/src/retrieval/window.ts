/**
 * Passage windows ("small-to-big"): the embedded unit stays a small chunk fitted to the embedding
 * model, but the passage a hit returns is the text of its section around it — the hit's chunk
 * and its neighbours of the same document version and heading, joined in order without the
 * chunker's overlap, up to a token budget (PASSAGE_WINDOW_TOKENS, counted like the chat context:
 * `estimateTokens`). Hits of one document whose chunk already lies in an earlier (better) hit's
 * window are folded into it, so windows never repeat text. Pure functions; retrieve.ts fetches
 * the neighbours (VectorIndex.chunksInRanges) and applies them.
 */
import type { ChunkPayload, ChunkRange } from '@rattgllm/core';
import { estimateTokens, tokensOfLength, type Passage } from './context.js';

/** Neighbours fetched per side at most, whatever the budget (a bounded scroll). */
export const MAX_WINDOW_RADIUS = 8;

type PageInfo = Pick<ChunkPayload, 'text' | 'page' | 'page_end' | 'page_breaks'>;

/** How many chunks each side of a hit may fit in the budget: the budget over the hit's own size. */
export function windowRadius(hitText: string, budgetTokens: number): number {
  const own = Math.max(1, estimateTokens(hitText));
  return Math.max(0, Math.min(MAX_WINDOW_RADIUS, Math.ceil((budgetTokens - own) / (own * 0.5))));
}

/** The chunk ranges to fetch around each passage (and its `also` passages). */
export function windowRanges(
  passages: readonly Passage[],
  versionOf: (p: Passage) => number | undefined,
  budgetTokens: number,
): ChunkRange[] {
  const out: ChunkRange[] = [];
  for (const p of passages) {
    const version = versionOf(p);
    const r = windowRadius(p.text, budgetTokens);
    if (version === undefined || r === 0) continue;
    out.push({
      documentId: p.documentId,
      version,
      from: Math.max(0, p.chunkIndex - r),
      to: p.chunkIndex + r,
    });
  }
  return out;
}

const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);

/**
 * Where `next`'s new text begins after `prev`: the longest prefix of `next` that is also a
 * suffix of `prev` and falls on whitespace at both ends (the chunker's overlap is whole units,
 * sentences or words), found with the KMP border chain in linear time. 0: no overlap.
 */
export function overlapLength(prev: string, next: string): number {
  const s = `${next}\u0000${prev}`;
  const pi = new Int32Array(s.length);
  // Char codes, not one-character strings: this runs over every pair of neighbours on a search.
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let k = pi[i - 1]!;
    while (k > 0 && c !== s.charCodeAt(k)) k = pi[k - 1]!;
    if (c === s.charCodeAt(k)) k++;
    pi[i] = k;
  }
  for (let k = pi[s.length - 1]!; k > 0; k = pi[k - 1]!) {
    if (isSpace(next[k]) && isSpace(prev[prev.length - k - 1])) return k;
  }
  return 0;
}

/** Offset in `next` where its text not already in `prev` begins (a repeated header line skipped too). */
function seam(prev: string, next: string): number {
  const k = overlapLength(prev, next);
  if (k > 0) return k;
  // A section header (a CSV's column row) opens every chunk of its section: skip it, then the overlap.
  const nl = next.indexOf('\n');
  if (nl > 0 && prev.startsWith(next.slice(0, nl + 1))) {
    const rest = next.slice(nl + 1);
    return nl + 1 + overlapLength(prev, rest);
  }
  return 0;
}

function pageAt(c: PageInfo, pos: number): number | null {
  let page = c.page;
  for (const [off, p] of c.page_breaks ?? []) if (off <= pos) page = p;
  return page;
}

/**
 * Chunks in document order joined into one text, with its first and last page and page breaks.
 * `before` / `after`: the chunks around that another passage already shows — their overlap with
 * this text is left out, so two passages never repeat each other's words. `seamOf`: `seam` of two
 * chunks' texts (widenPassages passes a memo of it).
 */
export function joinChunks(
  chunks: readonly PageInfo[],
  edges: { before?: PageInfo | undefined; after?: PageInfo | undefined } = {},
  seamOf: (prev: PageInfo, next: PageInfo) => number = (a, b) => seam(a.text, b.text),
): {
  text: string;
  page: number | null;
  pageEnd: number | null;
  pageBreaks: [number, number][] | null;
} {
  const first = chunks[0]!;
  const parts = [first.text];
  let length = first.text.length;
  const breaks: [number, number][] = [...(first.page_breaks ?? [])];
  let last = pageAt(first, first.text.length);
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!;
    const c = chunks[i]!;
    const start = seamOf(prev, c);
    let offset = length;
    if (start === 0) {
      parts.push('\n\n');
      offset += 2;
    }
    // A new page where the new text begins, then the chunk's own later breaks.
    const add = (at: number, page: number | null) => {
      if (page === null || page === last) return;
      breaks.push([at, page]);
      last = page;
    };
    add(offset, pageAt(c, start));
    for (const [off, page] of c.page_breaks ?? []) if (off > start) add(offset + off - start, page);
    const piece = c.text.slice(start);
    parts.push(piece);
    length = offset + piece.length;
  }
  let text = parts.join('');
  // The edges: what the neighbouring passages already hold is cut off both ends.
  let from = edges.before ? seamOf(edges.before, first) : 0;
  let end = text.length - (edges.after ? overlapLength(chunks.at(-1)!.text, edges.after.text) : 0);
  // The separator at a cut belongs to neither side.
  if (end < text.length) while (end > from && isSpace(text[end - 1])) end--;
  if (from > 0) while (from < end && isSpace(text[from])) from++;
  text = text.slice(from, end);
  let page = first.page;
  for (const [off, p] of breaks) if (off <= from) page = p;
  const kept = breaks
    .map(([off, p]): [number, number] => [off - from, p])
    .filter(([off]) => off > 0 && off < text.length);
  const max = kept.reduce((m, [, p]) => Math.max(m, p), page ?? -Infinity);
  return {
    text,
    page,
    pageEnd: page !== null && max > page ? max : null,
    pageBreaks: kept.length ? kept : null,
  };
}

/**
 * Each pair of chunks' seam once: growth tries a window many times and the final join needs them
 * again; kept with the chunk objects themselves (the window cache's, so a question asked again
 * computes none).
 */
const seams = new WeakMap<PageInfo, WeakMap<PageInfo, number>>();
function seamOf(a: PageInfo, b: PageInfo): number {
  let m = seams.get(a);
  if (!m) seams.set(a, (m = new WeakMap()));
  let k = m.get(b);
  if (k === undefined) m.set(b, (k = seam(a.text, b.text)));
  return k;
}

/**
 * Each passage widened to its window, in the given (rank) order; a passage whose chunk is inside
 * a better passage's window of the same document is left out (its text is there). `chunks` may
 * hold anything the index returned: only chunks of the passage's own document and version, and
 * of its heading, are ever joined to it. `probe`: told of every neighbour growth looked up
 * (whether `chunks` held it), so a caller holding part of the ranges knows what it was asked for.
 */
export function widenPassages(
  ranked: readonly Passage[],
  chunks: readonly ChunkPayload[],
  versionOf: (p: Passage) => number | undefined,
  budgetTokens: number,
  probe?: (p: Passage, version: number, index: number, found: boolean) => void,
  /** Windows wanted at most: the passages after them cannot change them, so none is built. */
  limit = Infinity,
): Passage[] {
  const byKey = new Map<string, ChunkPayload>();
  const key = (documentId: string, version: number, index: number) => `${documentId}:${version}:${index}`;
  for (const c of chunks) byKey.set(key(c.document_id, c.version, c.chunk_index), c);
  const claimed = new Map<string, Set<number>>();
  const out: Passage[] = [];
  for (const p of ranked) {
    if (out.length >= limit) break;
    const version = versionOf(p);
    const taken = claimed.get(p.documentId) ?? new Set<number>();
    claimed.set(p.documentId, taken);
    if (taken.has(p.chunkIndex)) continue;
    // The hit's own chunk as fetched with its neighbours (the same payload), else as the hit has it.
    const fetched = version === undefined ? undefined : byKey.get(key(p.documentId, version, p.chunkIndex));
    const own: PageInfo =
      fetched?.text === p.text
        ? fetched
        : {
            text: p.text,
            page: p.page,
            ...(p.pageEnd != null ? { page_end: p.pageEnd } : {}),
            ...(p.pageBreaks ? { page_breaks: p.pageBreaks } : {}),
          };
    const neighbour = (index: number): PageInfo | undefined => {
      if (version === undefined || taken.has(index)) return undefined;
      const c = byKey.get(key(p.documentId, version, index));
      probe?.(p, version, index, c !== undefined);
      return c && (c.heading ?? '') === (p.heading ?? '') ? c : undefined;
    };
    const window: PageInfo[] = [own];
    let lo = p.chunkIndex;
    let hi = p.chunkIndex;
    // The joined text's length so far, kept as it grows: a chunk adds its text less what the seam
    // shares with its neighbour (or the blank line between two that share nothing).
    let length = own.text.length;
    const grownBy = (prev: PageInfo, next: PageInfo, newcomer: PageInfo) => {
      const k = seamOf(prev, next);
      return newcomer.text.length - k + (k === 0 ? 2 : 0);
    };
    let open = { next: true, prev: true };
    // Grow one chunk at a time, following text first, then the one before, while it fits.
    for (
      let side: 'next' | 'prev' = 'next';
      open.next || open.prev;
      side = side === 'next' ? 'prev' : 'next'
    ) {
      if (!open[side]) continue;
      const index = side === 'next' ? hi + 1 : lo - 1;
      const c = neighbour(index);
      const grown =
        c && length + (side === 'next' ? grownBy(window.at(-1)!, c, c) : grownBy(c, window[0]!, c));
      if (c === undefined || grown === undefined || tokensOfLength(grown) > budgetTokens) {
        open = { ...open, [side]: false };
        continue;
      }
      length = grown;
      if (side === 'next') {
        window.push(c);
        hi = index;
      } else {
        window.unshift(c);
        lo = index;
      }
    }
    // Chunks just outside that a better passage of this document shows: their overlap is theirs.
    const before = taken.has(lo - 1) ? byKey.get(key(p.documentId, version ?? -1, lo - 1)) : undefined;
    const after = taken.has(hi + 1) ? byKey.get(key(p.documentId, version ?? -1, hi + 1)) : undefined;
    for (let i = lo; i <= hi; i++) taken.add(i);
    if (window.length === 1 && !before && !after) {
      out.push(p);
      continue;
    }
    const joined = joinChunks(window, { before, after }, seamOf);
    // Nothing of its own left (all of it shown by the passages around it): folded into them.
    const narrow = {
      text: p.text,
      page: p.page,
      pageEnd: p.pageEnd ?? null,
      pageBreaks: p.pageBreaks ?? null,
    };
    if (joined.text.trim()) out.push({ ...p, ...joined, narrow });
  }
  return out;
}
