/**
 * Token counting for chunk sizes.
 *
 * What has to hold: a chunk plus the `search_document: ` prefix must fit the embedding model's
 * context, or Ollama silently truncates it and the tail of the chunk is never searchable.
 * nomic-embed-text runs in Ollama with num_ctx 2048 and a BERT WordPiece tokenizer
 * (bert-base-uncased vocabulary, 30 522 pieces).
 *
 * No pure-JS npm package ships that vocabulary, and nothing may be downloaded at run time, so we
 * count with OpenAI's cl100k BPE (gpt-tokenizer: pure JS, ESM, vocabulary bundled, ~50 MB/s) and
 * make the count conservative in two ways:
 *  1. `countTokens` is the larger of the cl100k count and a cheap lower bound of the WordPiece
 *     count (BERT splits every punctuation mark and every CJK ideograph into its own token, and
 *     every remaining word is at least one token). This catches the texts where BPE is far cheaper
 *     than WordPiece: ASCII rules ("-----", "|---|---|"), dotted leaders, long digit runs.
 *  2. The hard maximum leaves room for the WordPiece/cl100k ratio on ordinary prose, which is
 *     about 1.0-1.25 for English and other Latin-script languages (a 30k vocabulary splits rare
 *     words into more ##pieces than a 100k one): HARD_MAX_TOKENS = (2048 - 64) × 0.8 ≈ 1587.
 *
 * Speed (issue 4: parse + chunk ≥ 20 MB/s per core, `npm run bench:parse`): the counts are exact
 * (tokens.test.ts compares them with gpt-tokenizer on the whole text), but computed per segment —
 * about one word — from a cache, and new ASCII segments are split and merged in place without
 * gpt-tokenizer's regex and UTF-8 round trips. Only non-ASCII pieces go through gpt-tokenizer.
 */
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import cl100kRanks from 'gpt-tokenizer/bpeRanks/cl100k_base';

/** Ollama's context for nomic-embed-text; input beyond it is cut off without an error. */
export const EMBED_CONTEXT_TOKENS = 2048;
/** [CLS], [SEP], the `search_document: ` prefix and a heading line the embed stage may prepend. */
export const EMBED_RESERVED_TOKENS = 64;
/** Lowest cl100k/WordPiece ratio we plan for (WordPiece counts up to 1.25× cl100k). */
export const TOKENIZER_SAFETY_FACTOR = 0.8;
/** No chunk's counted tokens ever exceed this, whatever CHUNK_TOKENS says. */
export const HARD_MAX_TOKENS = Math.floor(
  (EMBED_CONTEXT_TOKENS - EMBED_RESERVED_TOKENS) * TOKENIZER_SAFETY_FACTOR,
);

/** Chunk target when CHUNK_TOKENS is unset and the model's context allows it. */
export const DEFAULT_CHUNK_TOKENS = 400;

/**
 * The chunk target for a model that reads `contextTokens` per input: room for [CLS]/[SEP], the
 * prefix and the heading line the embed stage prepends (an eighth of the context, 16 to 64
 * tokens), times the tokenizer safety factor. 2048 → 1587 (HARD_MAX_TOKENS), 512 → 358, 256 → 179.
 * A requested size over that is lowered, with a warning to log: its tails would never reach the
 * dense vector.
 */
export function chunkTokensFor(
  contextTokens: number | undefined,
  requested: number | undefined,
): { tokens: number; warning?: string } {
  const reserved = contextTokens ? Math.min(64, Math.max(16, Math.round(contextTokens / 8))) : 0;
  const fit = contextTokens
    ? Math.min(HARD_MAX_TOKENS, Math.floor((contextTokens - reserved) * TOKENIZER_SAFETY_FACTOR))
    : HARD_MAX_TOKENS;
  if (requested === undefined) return { tokens: Math.min(DEFAULT_CHUNK_TOKENS, fit) };
  if (requested <= fit) return { tokens: requested };
  return {
    tokens: fit,
    warning:
      `CHUNK_TOKENS=${requested} is more than the embedding model reads (${contextTokens ?? EMBED_CONTEXT_TOKENS} tokens ` +
      `of context, room for ${fit} counted tokens per chunk): chunks are cut to ${fit} so their tails still reach the vector`,
  };
}

/** Conservative token count of `text` for the embedding model (see the module comment). */
export function countTokens(text: string): number {
  const n = text.length;
  if (n === 0) return 0;
  // Cut the text into segments that pre-tokenization never crosses (see `isNonSpace`), count each
  // one — cached by its text, which is nearly always one word with its leading space — and add up.
  // Both counts are exact sums: cl100k BPE never merges across its pre-tokens, and the WordPiece
  // floor restarts at every whitespace, which is where every cut is. So the result is exactly
  // max(cl100k(text), wordPieceLowerBound(text)), without running the Unicode split regex or
  // scanning characters again for text made of words seen before.
  sumBpe = 0;
  sumFloor = 0;
  let start = 0;
  let prev = text.charCodeAt(0);
  let hash = Math.imul(FNV_OFFSET ^ prev, FNV_PRIME);
  let bits = prev;
  for (let i = 1; i < n; i++) {
    const c = text.charCodeAt(i);
    // A cut before a single space between two non-space characters, or after a line feed that
    // is followed by a non-space character.
    if (
      c === 32
        ? i + 1 < n && isNonSpace(prev) && isNonSpace(text.charCodeAt(i + 1))
        : prev === 10 && isNonSpace(c)
    ) {
      addSegment(text, start, i, hash, bits < 128);
      start = i;
      hash = FNV_OFFSET;
      bits = 0;
    }
    hash = Math.imul(hash ^ c, FNV_PRIME);
    bits |= c;
    prev = c;
  }
  addSegment(text, start, n, hash, bits < 128);
  return sumFloor > sumBpe ? sumFloor : sumBpe;
}

/**
 * Why the cuts are safe, against gpt-tokenizer's cl100k split pattern
 * `'(?:s|t|re|ve|m|ll|d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+$|\s*[\r\n]|\s+(?!\S)|\s`:
 *  - No pre-token holds a non-space character followed by a space (letters, digits, punctuation
 *    runs and their trailing line breaks, and runs of whitespace all stop there), nor a line feed
 *    followed by a non-space (only a one-character prefix of a letter run can precede letters, and
 *    it may not be a line break). So the pre-tokens of the whole text never straddle a cut.
 *  - The pattern has no look-behind, so matching from a cut is the same in the segment as in the
 *    text. At a segment's end the only look-ahead, `(?!\S)`, sees whitespace in the text and the
 *    end in the segment: both pass. `\s+$` can match a segment's trailing whitespace where the text
 *    has more after it, but a segment only ends in whitespace after a line feed, and there
 *    `\s*[\r\n]` takes the very same characters in the text.
 * "Non-space" is tested conservatively: an unsure character makes no cut, only a longer segment.
 */
function isNonSpace(c: number): boolean {
  if (c < 0xa0) return c > 32 && c !== 0x85;
  return !(
    c === 0xa0 ||
    c === 0x1680 ||
    c === 0x180e || // a space in Unicode before 6.3: no cut, to be safe
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Running sums of the segments of the text being counted (countTokens is not re-entrant). */
let sumBpe = 0;
let sumFloor = 0;

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * Segment cache: open addressing on the FNV-1a hash the scan computes anyway, with the segment's
 * characters kept in a pool and compared in place against the text, so a hit allocates nothing
 * and touches two cache lines (a Map would need the segment sliced out and hashed again). Each
 * slot is four int32s: hash, packed counts + 1 (0 = empty), pool offset, length. Emptied when
 * three quarters full.
 */
/** Packed counts: cl100k × PACK + WordPiece floor. */
const PACK = 1024;
/** Longer segments (long URLs, code, blobs) are rarely repeated: counted, not cached. */
const SEGMENT_CACHE_MAX_LENGTH = 256;
const TABLE_BITS = 17;
const TABLE_SIZE = 1 << TABLE_BITS;
const TABLE_MASK = TABLE_SIZE - 1;
const TABLE_LIMIT = (TABLE_SIZE * 3) / 4;
const table = new Int32Array(TABLE_SIZE * 4);
let tableCount = 0;
let pool = new Uint16Array(1 << 20);
let poolUsed = 0;

function addSegment(text: string, start: number, end: number, hash: number, ascii: boolean): void {
  const length = end - start;
  if (length > SEGMENT_CACHE_MAX_LENGTH) {
    const segment = text.slice(start, end);
    sumBpe += ascii ? countBpeAscii(text, start, end) : countBpe(segment);
    sumFloor += wordPieceLowerBound(segment);
    return;
  }
  let slot = (hash ^ (hash >>> TABLE_BITS)) & TABLE_MASK;
  for (;;) {
    const at = slot << 2;
    const value = table[at + 1]!;
    if (value === 0) break;
    if (table[at] === hash && table[at + 3] === length && samePooled(table[at + 2]!, text, start, length)) {
      const packed = value - 1;
      const bpe = (packed / PACK) | 0;
      sumBpe += bpe;
      sumFloor += packed - bpe * PACK;
      return;
    }
    slot = (slot + 1) & TABLE_MASK;
  }
  const segment = start === 0 && end === text.length ? text : text.slice(start, end);
  // At most 256 UTF-16 units: at most 3 × 256 cl100k tokens (one per UTF-8 byte at worst) and
  // 256 WordPiece units, so both fit the packed form.
  const bpe = ascii ? countBpeAscii(text, start, end) : countBpe(segment);
  const floor = wordPieceLowerBound(segment);
  sumBpe += bpe;
  sumFloor += floor;
  if (tableCount >= TABLE_LIMIT) {
    table.fill(0);
    tableCount = 0;
    poolUsed = 0;
    slot = (hash ^ (hash >>> TABLE_BITS)) & TABLE_MASK;
  }
  if (poolUsed + length > pool.length) {
    const grown = new Uint16Array(pool.length * 2);
    grown.set(pool.subarray(0, poolUsed));
    pool = grown;
  }
  for (let k = 0; k < length; k++) pool[poolUsed + k] = text.charCodeAt(start + k);
  const at = slot << 2;
  table[at] = hash;
  table[at + 1] = bpe * PACK + floor + 1;
  table[at + 2] = poolUsed;
  table[at + 3] = length;
  poolUsed += length;
  tableCount++;
}

function samePooled(offset: number, text: string, start: number, length: number): boolean {
  for (let k = 0; k < length; k++) {
    if (pool[offset + k] !== text.charCodeAt(start + k)) return false;
  }
  return true;
}

/**
 * cl100k count of a segment with non-ASCII characters: gpt-tokenizer's split regex, then each
 * piece — BPE never merges across pieces, so the sum is exactly the count of the whole — with
 * the ASCII merge below, or gpt-tokenizer memoised per piece (bounded, cleared when full).
 */
const MEMO_LIMIT = 200_000;
const memo = new Map<string, number>();
const splitter = new RegExp(CL100K_TOKEN_SPLIT_REGEX.source, CL100K_TOKEN_SPLIT_REGEX.flags);

function countBpe(text: string): number {
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
function countBpeAscii(text: string, start: number, end: number): number {
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

const PUNCT = /\p{P}|\p{S}/u;

/**
 * A lower bound of BERT's BasicTokenizer + WordPiece token count: every punctuation or symbol
 * character is one token, every CJK ideograph is one token, every other whitespace-separated run
 * of characters is at least one. One pass over char codes, no allocation.
 */
export function wordPieceLowerBound(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32) {
      inWord = false;
    } else if (c < 128) {
      // ASCII punctuation/symbols: ! through /, : through @, [ through `, { through ~.
      if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || c >= 123) {
        count++;
        inWord = false;
      } else if (!inWord) {
        count++;
        inWord = true;
      }
    } else if (isCjk(c)) {
      count++;
      inWord = false;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // Surrogate half: part of a word (emoji etc. become [UNK] or pieces; one token at least).
      if (!inWord) {
        count++;
        inWord = true;
      }
    } else if (c === 0xa0 || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200b)) {
      inWord = false;
    } else if (PUNCT.test(text[i]!)) {
      count++;
      inWord = false;
    } else if (!inWord) {
      count++;
      inWord = true;
    }
  }
  return count;
}

function isCjk(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x3040 && c <= 0x30ff) || // kana: not split by BERT, but each is a piece in practice
    (c >= 0xac00 && c <= 0xd7af)
  );
}
