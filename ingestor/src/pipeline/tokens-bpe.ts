/**
 * cl100k BPE counts for tokens.ts: gpt-tokenizer for pieces with non-ASCII characters (memoised),
 * and for ASCII an in-place reimplementation of its split pattern and byte-pair merge that
 * allocates nothing (tokens.test.ts checks both against gpt-tokenizer).
 */
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import cl100kRanks from 'gpt-tokenizer/bpeRanks/cl100k_base';

/** FNV-1a, as the scan in tokens.ts computes it. */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/**
 * cl100k count of a segment with non-ASCII characters: gpt-tokenizer's split regex, then each
 * piece — BPE never merges across pieces, so the sum is exactly the count of the whole — with
 * the ASCII merge below, or gpt-tokenizer memoised per piece (bounded, cleared when full).
 */
const MEMO_LIMIT = 200_000;
const memo = new Map<string, number>();
const splitter = new RegExp(CL100K_TOKEN_SPLIT_REGEX.source, CL100K_TOKEN_SPLIT_REGEX.flags);

export function countBpe(text: string): number {
  let total = 0;
  splitter.lastIndex = 0;
  for (let m = splitter.exec(text); m !== null; m = splitter.exec(text)) {
    const piece = m[0];
    if (piece.length === 0) {
      splitter.lastIndex++;
      continue;
    }
    if (isAsciiString(piece)) {
      total += countAsciiPiece(piece, 0, piece.length);
      continue;
    }
    let n = memo.get(piece);
    if (n === undefined) {
      n = countCl100k(piece);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(piece, n);
    }
    total += n;
  }
  return total;
}

/*
 * ASCII fast path. Nearly all new segments of English text are ASCII; for them the split regex
 * and gpt-tokenizer's byte-level merge are replaced by code that reads the string in place and
 * allocates nothing. Both are checked against gpt-tokenizer in tokens.test.ts.
 */

/** Character classes of the split pattern, for ASCII: letter, digit, whitespace, other. */
const L = 1;
const N = 2;
const S = 3;
const P = 4;
const ASCII_CLASS = new Uint8Array(128).map((_, c) => {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return L;
  if (c >= 48 && c <= 57) return N;
  // JavaScript's \s in ASCII: tab, line feed, vertical tab, form feed, carriage return, space.
  if ((c >= 9 && c <= 13) || c === 32) return S;
  return P;
});

/**
 * cl100k count of `text[start, end)`, all ASCII, as if it were a string of its own: the split
 * pattern's alternatives tried in order at each position, then each pre-token counted.
 */
export function countBpeAscii(text: string, start: number, end: number): number {
  let total = 0;
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    const cls = ASCII_CLASS[c]!;
    const c1 = i + 1 < end ? text.charCodeAt(i + 1) : -1;
    const cls1 = c1 >= 0 ? ASCII_CLASS[c1]! : 0;
    let j: number;
    if (c === 39 && isContraction(text, i, end)) {
      // '(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])
      j = i + (isOneLetterContraction(c1) ? 2 : 3);
    } else if (cls1 === L && cls !== L && cls !== N && c !== 10 && c !== 13) {
      // [^\r\n\p{L}\p{N}]?\p{L}+ with its one-character prefix
      j = i + 2;
      while (j < end && ASCII_CLASS[text.charCodeAt(j)] === L) j++;
    } else if (cls === L) {
      j = i + 1;
      while (j < end && ASCII_CLASS[text.charCodeAt(j)] === L) j++;
    } else if (cls === N) {
      // \p{N}{1,3}
      j = i + 1;
      while (j < end && j < i + 3 && ASCII_CLASS[text.charCodeAt(j)] === N) j++;
    } else if (cls === P || (c === 32 && cls1 === P)) {
      // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
      j = cls === P ? i + 1 : i + 2;
      while (j < end && ASCII_CLASS[text.charCodeAt(j)] === P) j++;
      while (j < end && (text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13)) j++;
    } else {
      // Whitespace: \s+$ | \s*[\r\n] | \s+(?!\S) | \s
      let w = i + 1;
      let lastBreak = c === 10 || c === 13 ? i : -1;
      while (w < end && ASCII_CLASS[text.charCodeAt(w)] === S) {
        const cw = text.charCodeAt(w);
        if (cw === 10 || cw === 13) lastBreak = w;
        w++;
      }
      if (w === end) j = end;
      else if (lastBreak >= 0) j = lastBreak + 1;
      else if (w - i >= 2) j = w - 1;
      else j = i + 1;
    }
    total += countAsciiPiece(text, i, j);
    i = j;
  }
  return total;
}

function isOneLetterContraction(c: number): boolean {
  return isLetter(c, 115) || isLetter(c, 100) || isLetter(c, 109) || isLetter(c, 116); // s d m t
}

function isContraction(text: string, i: number, end: number): boolean {
  if (i + 1 >= end) return false;
  const a = text.charCodeAt(i + 1);
  if (isOneLetterContraction(a)) return true;
  if (i + 2 >= end) return false;
  const b = text.charCodeAt(i + 2);
  return (
    (isLetter(a, 108) && isLetter(b, 108)) || // ll
    (isLetter(a, 118) && isLetter(b, 101)) || // ve
    (isLetter(a, 114) && isLetter(b, 101)) // re
  );
}

/** `c` is the lower-case ASCII letter `lower` or its capital. */
function isLetter(c: number, lower: number): boolean {
  return c === lower || c === lower - 32;
}

/**
 * Ranks of the cl100k tokens that are ASCII text (their bytes are their characters), from the
 * vocabulary gpt-tokenizer already holds, in an open-addressing table on FNV-1a with the token
 * characters in a pool, so a lookup reads the text in place. Slot: hash, rank + 1, offset, length.
 */
const RANK_BITS = 18;
const RANK_MASK = (1 << RANK_BITS) - 1;
const rankTable = new Int32Array((1 << RANK_BITS) * 4);
const rankPool: number[] = [];
for (let rank = 0; rank < cl100kRanks.length; rank++) {
  const token = cl100kRanks[rank];
  if (typeof token !== 'string' || !isAsciiString(token)) continue;
  const hash = fnv(token, 0, token.length);
  let slot = (hash ^ (hash >>> RANK_BITS)) & RANK_MASK;
  while (rankTable[(slot << 2) + 1] !== 0) slot = (slot + 1) & RANK_MASK;
  const at = slot << 2;
  rankTable[at] = hash;
  rankTable[at + 1] = rank + 1;
  rankTable[at + 2] = rankPool.length;
  rankTable[at + 3] = token.length;
  for (let k = 0; k < token.length; k++) rankPool.push(token.charCodeAt(k));
}
const rankChars = Uint8Array.from(rankPool);
rankPool.length = 0;

function isAsciiString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function fnv(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let k = start; k < end; k++) hash = Math.imul(hash ^ text.charCodeAt(k), FNV_PRIME);
  return hash;
}

/** Rank of `text[start, end)` as one cl100k token, or Infinity when it is not one. */
function rankOf(text: string, start: number, end: number): number {
  const hash = fnv(text, start, end);
  const length = end - start;
  let slot = (hash ^ (hash >>> RANK_BITS)) & RANK_MASK;
  for (;;) {
    const at = slot << 2;
    const value = rankTable[at + 1]!;
    if (value === 0) return Infinity;
    if (rankTable[at] === hash && rankTable[at + 3] === length) {
      const offset = rankTable[at + 2]!;
      let k = 0;
      while (k < length && rankChars[offset + k] === text.charCodeAt(start + k)) k++;
      if (k === length) return value - 1;
    }
    slot = (slot + 1) & RANK_MASK;
  }
}

let starts = new Int32Array(64);
let ranks = new Float64Array(64);

/**
 * gpt-tokenizer's byte-pair merge (`bytePairMerge`: repeatedly merge the adjacent pair of lowest
 * rank, the leftmost on a tie) for one ASCII pre-token `text[start, end)`, counting the parts
 * instead of encoding them. ASCII bytes are the string's characters, so pairs are looked up in
 * place: no UTF-8 encoding and decoding per pair, which is where gpt-tokenizer spends its time.
 */
function countAsciiPiece(text: string, start: number, end: number): number {
  const n = end - start;
  if (n === 1 || rankOf(text, start, end) !== Infinity) return 1;
  if (starts.length < n + 1) {
    starts = new Int32Array(2 * n + 2);
    ranks = new Float64Array(2 * n + 2);
  }
  // Parts are text[starts[i], starts[i+1]); ranks[i] is the rank of parts i and i+1 merged.
  let parts = n;
  for (let i = 0; i <= n; i++) starts[i] = start + i;
  for (let i = 0; i < n - 1; i++) ranks[i] = rankOf(text, start + i, start + i + 2);
  while (parts > 1) {
    let lowest = Infinity;
    let at = -1;
    for (let i = 0; i < parts - 1; i++) {
      if (ranks[i]! < lowest) {
        lowest = ranks[i]!;
        at = i;
      }
    }
    if (at === -1) break;
    // Merge parts `at` and `at + 1`.
    for (let i = at + 1; i < parts; i++) starts[i] = starts[i + 1]!;
    for (let i = at + 1; i < parts - 1; i++) ranks[i] = ranks[i + 1]!;
    parts--;
    ranks[at] = at + 1 < parts ? rankOf(text, starts[at]!, starts[at + 2]!) : Infinity;
    if (at > 0) ranks[at - 1] = rankOf(text, starts[at - 1]!, starts[at + 1]!);
  }
  return parts;
}
