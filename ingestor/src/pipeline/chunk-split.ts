/**
 * The chunk stage's splitting (chunk.ts packs): a text too large for the budget is cut at the
 * next finer unit — line, sentence, word, characters — and the overlap is taken from the end of
 * the chunk just emitted.
 */
import { sentences, SentencesFromEnd } from './chunk-sentences.js';
import { countTokens } from './tokens.js';

export interface Piece {
  text: string;
  tokens: number;
  /** What joins it to the piece before it inside one chunk. */
  sep: string;
  page: number | undefined;
}

/** Where split pieces go: the chunk being filled, and how much room it has left. */
export interface PieceSink {
  add(piece: Piece): void;
  room(): number;
}

/** Levels below a paragraph: lines, sentences, words, then characters. */
const LEVEL_SEPARATORS = ['\n', ' ', ' '] as const;

/**
 * Hands `text` to the sink as one piece if it fits `limit`, else split at the next finer level. Units
 * of one level are re-packed up to the limit before going deeper, so a long paragraph becomes a
 * few pieces of several sentences, not hundreds of one-sentence pieces.
 */
export function splitToFit(
  text: string,
  limit: number,
  sep: string,
  page: number | undefined,
  level: number,
  sink: PieceSink,
  // The count of `text` when the caller has it already (a unit split further).
  known?: number,
): void {
  const tokens = known ?? countTokens(text);
  if (tokens <= limit) {
    sink.add({ text, tokens, sep, page });
    return;
  }
  if (level >= LEVEL_SEPARATORS.length) {
    splitChars(text, limit, sep, page, sink);
    return;
  }
  const units = splitLevel(text, level);
  if (units.length <= 1) {
    splitToFit(text, limit, sep, page, level + 1, sink, tokens);
    return;
  }
  const joiner = LEVEL_SEPARATORS[level]!;
  let buffer: string[] = [];
  let bufferTokens = 0;
  let first = true;
  // The first piece fills what is left of the current chunk (when that is worth filling).
  const left = sink.room();
  let cap = left >= limit / 8 ? Math.min(limit, left) : limit;
  const flush = (): void => {
    cap = limit;
    if (buffer.length === 0) return;
    sink.add({ text: buffer.join(joiner), tokens: bufferTokens, sep: first ? sep : joiner, page });
    first = false;
    buffer = [];
    bufferTokens = 0;
  };
  for (const unit of units) {
    const unitTokens = countTokens(unit);
    if (unitTokens > limit) {
      flush();
      splitToFit(unit, limit, first ? sep : joiner, page, level + 1, sink, unitTokens);
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

/** Last resort for a "word" over the limit (base64, a minified line): cut by characters. */
function splitChars(
  text: string,
  limit: number,
  sep: string,
  page: number | undefined,
  sink: PieceSink,
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
    sink.add({ text: piece, tokens, sep: first ? sep : '', page });
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
export function overlapTail(previous: Piece[], room: number): Piece[] {
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
  const bySentence = lastSentences(piece.text, room);
  if (bySentence) return { ...bySentence, sep: piece.sep, page: piece.page };
  const byWord = takeFromEnd(piece.text.split(/\s+/).filter(Boolean), room);
  if (byWord) return { ...byWord, sep: piece.sep, page: piece.page };
  return undefined;
}

/**
 * `takeFromEnd(sentences(text), room)`, reading sentences backwards from the end only as far as
 * the room goes, so a long piece is not cut into sentences whole at every chunk boundary.
 */
function lastSentences(text: string, room: number): { text: string; tokens: number } | undefined {
  const backwards = new SentencesFromEnd(text);
  const taken: string[] = [];
  let tokens = 0;
  for (let sentence = backwards.previous(); sentence !== undefined; sentence = backwards.previous()) {
    const unit = sentence.trim();
    if (unit.length === 0) continue;
    const cost = countTokens(unit) + (taken.length > 0 ? 1 : 0);
    if (tokens + cost > room) {
      if (taken.length === 0) return undefined;
      return { text: taken.reverse().join(' '), tokens };
    }
    tokens += cost;
    taken.push(unit);
  }
  // Everything would fit: then the whole piece would have fitted, so no tail (as takeFromEnd).
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
