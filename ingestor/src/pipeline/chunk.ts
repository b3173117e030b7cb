/**
 * Chunk stage: structure-aware packing of parsed sections into passages for embedding.
 *
 * - Consecutive sections with the same heading path (e.g. the pages of a PDF without headings) are
 *   packed together; a heading change always starts a new chunk, so every chunk has one heading
 *   path and a page range.
 * - Units, largest first: paragraph ("\n\n"), line, sentence (Intl.Segmenter), word, characters.
 *   A unit is split further only when it alone is over the budget, so paragraphs stay whole
 *   whenever they fit.
 * - Units are packed greedily up to the target; each new chunk in a section starts with the tail
 *   of the previous one (whole units, else its last sentences, else its last words) worth about
 *   `overlap × target` tokens, so a fact cut at a boundary is still found whole.
 * - No chunk's counted tokens exceed HARD_MAX_TOKENS (tokens.ts), whatever the target.
 *
 * Linear time: each unit's tokens are counted once (a chunk's count is the sum of its units plus
 * one per separator, an upper bound of counting the joined text), and chunk text is built with one
 * join per chunk — no repeated string concatenation.
 */
import { countTokens, HARD_MAX_TOKENS } from './tokens.js';
import type { Chunk, ParsedDocument, Section, StageContext } from './types.js';

export interface ChunkOptions {
  /** Target tokens per chunk (CHUNK_TOKENS). Clamped to HARD_MAX_TOKENS. */
  targetTokens: number;
  /** Overlap as a fraction of the target (CHUNK_OVERLAP), 0 to 0.5. */
  overlap: number;
}

/** Bump when the output for the same input changes: the reconcile pass re-indexes stale documents. */
export const CHUNKER_VERSION = 'structure-v2';

interface Piece {
  text: string;
  tokens: number;
  /** What joins it to the piece before it inside one chunk. */
  sep: string;
  page: number | undefined;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const PARAGRAPH_BREAK = /\n[ \t]*\n/;

export async function chunkDocument(
  doc: ParsedDocument,
  options: ChunkOptions,
  ctx: StageContext,
): Promise<Chunk[]> {
  ctx.signal.throwIfAborted();
  const chunks = chunkSections(doc.sections, options, ctx.signal);
  ctx.log.debug(
    { chunks: chunks.length, sections: doc.sections.length, parser: doc.parser },
    'chunked document',
  );
  return chunks;
}

/** The synchronous core, for callers that already hold sections (and for the benchmark). */
export function chunkSections(
  sections: readonly Section[],
  options: ChunkOptions,
  signal?: AbortSignal,
): Chunk[] {
  if (!(options.targetTokens > 0)) throw new RangeError('targetTokens must be positive');
  if (!(options.overlap >= 0 && options.overlap <= 0.5)) {
    throw new RangeError('overlap must be a fraction between 0 and 0.5');
  }
  const target = Math.min(Math.floor(options.targetTokens), HARD_MAX_TOKENS);
  const out: Chunk[] = [];

  let i = 0;
  while (i < sections.length) {
    signal?.throwIfAborted();
    const first = sections[i]!;
    let j = i + 1;
    while (j < sections.length && sameGroup(first, sections[j]!)) j++;
    packGroup(sections.slice(i, j), target, options.overlap, out);
    i = j;
  }
  return out;
}

function sameGroup(a: Section, b: Section): boolean {
  if (a.header !== b.header || a.headingPath.length !== b.headingPath.length) return false;
  for (let k = 0; k < a.headingPath.length; k++) {
    if (a.headingPath[k] !== b.headingPath[k]) return false;
  }
  return true;
}

function packGroup(group: Section[], target: number, overlap: number, out: Chunk[]): void {
  const headingPath = group[0]!.headingPath;
  let header = group[0]!.header?.trim() || undefined;
  let headerTokens = header ? countTokens(header) + 1 : 0;
  // A header that would eat most of every chunk is kept once as ordinary text instead.
  if (header && headerTokens > target / 2) {
    group = [{ ...group[0]!, text: `${header}\n${group[0]!.text}` }, ...group.slice(1)];
    header = undefined;
    headerTokens = 0;
  }
  const budget = target - headerTokens;
  const overlapTokens = Math.floor(target * overlap);

  let parts: Piece[] = [];
  let used = 0;

  const emit = (): void => {
    const texts: string[] = header ? [header, '\n'] : [];
    let pageMin: number | undefined;
    let pageMax: number | undefined;
    const breaks: [number, number][] = [];
    let offset = texts.join('').length;
    let lastPage: number | undefined;
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (k > 0) texts.push(p.sep);
      if (k > 0) offset += p.sep.length;
      if (p.page !== undefined && lastPage !== undefined && p.page !== lastPage)
        breaks.push([offset, p.page]);
      if (p.page !== undefined) lastPage = p.page;
      texts.push(p.text);
      offset += p.text.length;
      if (p.page !== undefined) {
        if (pageMin === undefined || p.page < pageMin) pageMin = p.page;
        if (pageMax === undefined || p.page > pageMax) pageMax = p.page;
      }
    }
    const chunk: Chunk = {
      index: out.length,
      text: texts.join(''),
      headingPath: [...headingPath],
      heading: headingPath.join(' > '),
      tokenCount: headerTokens + used,
    };
    if (pageMin !== undefined) chunk.page = pageMin;
    if (pageMax !== undefined && pageMax !== pageMin) {
      chunk.pageEnd = pageMax;
      chunk.pageBreaks = breaks;
    }
    out.push(chunk);
  };

  const add = (piece: Piece): void => {
    const cost = piece.tokens + (parts.length > 0 ? 1 : 0);
    if (parts.length > 0 && used + cost > budget) {
      const previous = parts;
      emit();
      // Room for the overlap: never so much that the new piece would not fit.
      const room = Math.min(overlapTokens, budget - piece.tokens - 1);
      parts = room > 0 ? overlapTail(previous, room) : [];
      used = sumTokens(parts);
    }
    used += piece.tokens + (parts.length > 0 ? 1 : 0);
    parts.push(piece);
  };

  // Room left in the chunk being filled: a paragraph that must be split fills it first, so a
  // title or a short lead paragraph never stays alone in a chunk of its own.
  const room = (): number => (parts.length > 0 ? budget - used - 1 : budget);

  for (const section of group) {
    const paragraphs = section.text.split(PARAGRAPH_BREAK);
    for (const raw of paragraphs) {
      const paragraph = raw.trim();
      if (paragraph.length === 0) continue;
      splitToFit(paragraph, budget, '\n\n', section.page, 0, add, room);
    }
  }
  if (parts.length > 0) emit();
}

function sumTokens(parts: Piece[]): number {
  let n = 0;
  for (let k = 0; k < parts.length; k++) n += parts[k]!.tokens + (k > 0 ? 1 : 0);
  return n;
}

/** Levels below a paragraph: lines, sentences, words, then characters. */
const LEVEL_SEPARATORS = ['\n', ' ', ' '] as const;

/**
 * Hands `text` to `add` as one piece if it fits `limit`, else split at the next finer level. Units
 * of one level are re-packed up to the limit before going deeper, so a long paragraph becomes a
 * few pieces of several sentences, not hundreds of one-sentence pieces.
 */
function splitToFit(
  text: string,
  limit: number,
  sep: string,
  page: number | undefined,
  level: number,
  add: (p: Piece) => void,
  room: () => number = () => limit,
): void {
  const tokens = countTokens(text);
  if (tokens <= limit) {
    add({ text, tokens, sep, page });
    return;
  }
  if (level >= LEVEL_SEPARATORS.length) {
    splitChars(text, limit, sep, page, add);
    return;
  }
  const units = splitLevel(text, level);
  if (units.length <= 1) {
    splitToFit(text, limit, sep, page, level + 1, add, room);
    return;
  }
  const joiner = LEVEL_SEPARATORS[level]!;
  let buffer: string[] = [];
  let bufferTokens = 0;
  let first = true;
  // The first piece fills what is left of the current chunk (when that is worth filling).
  const left = room();
  let cap = left >= limit / 8 ? Math.min(limit, left) : limit;
  const flush = (): void => {
    cap = limit;
    if (buffer.length === 0) return;
    add({ text: buffer.join(joiner), tokens: bufferTokens, sep: first ? sep : joiner, page });
    first = false;
    buffer = [];
    bufferTokens = 0;
  };
  for (const unit of units) {
    const unitTokens = countTokens(unit);
    if (unitTokens > limit) {
      flush();
      splitToFit(unit, limit, first ? sep : joiner, page, level + 1, add, room);
      first = false;
      continue;
    }
    const cost = unitTokens + (buffer.length > 0 ? 1 : 0);
    if (bufferTokens + cost > cap) flush();
    bufferTokens += unitTokens + (buffer.length > 0 ? 1 : 0);
    buffer.push(unit);
  }
  flush();
}

function splitLevel(text: string, level: number): string[] {
  if (level === 0) return nonEmpty(text.split('\n'));
  if (level === 1) return sentences(text);
  return nonEmpty(text.split(/\s+/));
}

function nonEmpty(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

function sentences(text: string): string[] {
  const out: string[] = [];
  for (const s of sentenceSegmenter.segment(text)) {
    const t = s.segment.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/** Last resort for a "word" over the limit (base64, a minified line): cut by characters. */
function splitChars(
  text: string,
  limit: number,
  sep: string,
  page: number | undefined,
  add: (p: Piece) => void,
): void {
  // A token is rarely under 1 UTF-16 unit; start at `limit` units and halve until it fits.
  let start = 0;
  let first = true;
  while (start < text.length) {
    let size = Math.max(1, limit);
    let end = Math.min(text.length, start + size);
    // Do not cut a surrogate pair in half.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    let piece = text.slice(start, end);
    let tokens = countTokens(piece);
    while (tokens > limit && size > 1) {
      size = Math.max(1, Math.floor(size / 2));
      end = Math.min(text.length, start + size);
      if (end < text.length && end - start > 1 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      piece = text.slice(start, end);
      tokens = countTokens(piece);
    }
    add({ text: piece, tokens, sep: first ? sep : '', page });
    first = false;
    start = end;
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * The end of the chunk just emitted, worth at most `room` tokens: whole pieces if they fit, else
 * the last sentences of the last piece, else its last words.
 */
function overlapTail(previous: Piece[], room: number): Piece[] {
  const tail: Piece[] = [];
  let used = 0;
  for (let k = previous.length - 1; k >= 0; k--) {
    const p = previous[k]!;
    const cost = p.tokens + (tail.length > 0 ? 1 : 0);
    if (used + cost > room) {
      if (tail.length === 0) {
        const cut = tailOf(p, room);
        if (cut) tail.push(cut);
      }
      break;
    }
    tail.unshift(p);
    used += cost;
  }
  return tail;
}

function tailOf(piece: Piece, room: number): Piece | undefined {
  const bySentence = takeFromEnd(sentences(piece.text), room);
  if (bySentence) return { ...bySentence, sep: piece.sep, page: piece.page };
  const byWord = takeFromEnd(piece.text.split(/\s+/).filter(Boolean), room);
  if (byWord) return { ...byWord, sep: piece.sep, page: piece.page };
  return undefined;
}

function takeFromEnd(units: string[], room: number): { text: string; tokens: number } | undefined {
  let tokens = 0;
  let k = units.length;
  while (k > 0) {
    const t = countTokens(units[k - 1]!) + (k < units.length ? 1 : 0);
    if (tokens + t > room) break;
    tokens += t;
    k--;
  }
  // Nothing fits, or everything would (then the whole piece would have fitted): no tail.
  if (k === units.length || k === 0) return undefined;
  return { text: units.slice(k).join(' '), tokens };
}
