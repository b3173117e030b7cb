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
import { countBpe, countBpeAscii, FNV_OFFSET, FNV_PRIME } from './tokens-bpe.js';
import { wordPieceLowerBound } from './tokens-wordpiece.js';

export { wordPieceLowerBound } from './tokens-wordpiece.js';

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

/**
 * Segment cache: open addressing on the FNV-1a hash the scan computes anyway, with each entry's
 * counts and characters kept together in a pool and compared in place against the text, so a hit
 * allocates nothing. The cost of a hit is memory — the corpus of a few MB has ~70k distinct
 * segments — so a slot is two int32s (hash; pool offset and length + 1, 0 = empty) and the entry
 * in the pool is its packed counts (two units) then its characters: a hit reads one slot and one
 * run of the pool, which for the frequent words, stored first, stay in cache. Emptied when three
 * quarters full or when the pool offset would outgrow its 23 bits.
 */
/** Packed counts: cl100k << PACK_BITS | WordPiece floor. */
const PACK_BITS = 10;
const PACK_MASK = (1 << PACK_BITS) - 1;
/** Longer segments (long URLs, code, blobs) are rarely repeated: counted, not cached. */
const SEGMENT_CACHE_MAX_LENGTH = 255;
const TABLE_BITS = 17;
const TABLE_SIZE = 1 << TABLE_BITS;
const TABLE_MASK = TABLE_SIZE - 1;
const TABLE_LIMIT = (TABLE_SIZE * 3) / 4;
const POOL_LIMIT = 1 << 23;
const table = new Int32Array(TABLE_SIZE * 2);
let tableCount = 0;
let pool = new Uint16Array(1 << 20);
let poolUsed = 0;

/** Adds the counts of `text[start, end)` to the sums: the hit path, small enough to be inlined. */
function addSegment(text: string, start: number, end: number, hash: number, ascii: boolean): void {
  const length = end - start;
  if (length <= SEGMENT_CACHE_MAX_LENGTH) {
    let slot = (hash ^ (hash >>> TABLE_BITS)) & TABLE_MASK;
    for (;;) {
      const entry = table[(slot << 1) + 1]! - 1;
      if (entry < 0) break;
      if (table[slot << 1] === hash && (entry & 255) === length) {
        const offset = entry >>> 8;
        if (samePooled(offset + 2, text, start, length)) {
          const counts = pool[offset]! | (pool[offset + 1]! << 16);
          sumBpe += counts >>> PACK_BITS;
          sumFloor += counts & PACK_MASK;
          return;
        }
      }
      slot = (slot + 1) & TABLE_MASK;
    }
  }
  addNewSegment(text, start, end, hash, ascii);
}

/** Counts a segment not in the cache, and caches it unless it is long. */
function addNewSegment(text: string, start: number, end: number, hash: number, ascii: boolean): void {
  const length = end - start;
  const segment = start === 0 && end === text.length ? text : text.slice(start, end);
  const bpe = ascii ? countBpeAscii(text, start, end) : countBpe(segment);
  const floor = wordPieceLowerBound(segment);
  sumBpe += bpe;
  sumFloor += floor;
  if (length > SEGMENT_CACHE_MAX_LENGTH) return;
  // At most 255 UTF-16 units: at most 3 × 255 cl100k tokens (one per UTF-8 byte at worst) and
  // 255 WordPiece units, so both fit the packed form.
  const counts = (bpe << PACK_BITS) | floor;
  if (tableCount >= TABLE_LIMIT || poolUsed + length + 2 > POOL_LIMIT) {
    table.fill(0);
    tableCount = 0;
    poolUsed = 0;
  }
  let slot = (hash ^ (hash >>> TABLE_BITS)) & TABLE_MASK;
  while (table[(slot << 1) + 1] !== 0) slot = (slot + 1) & TABLE_MASK;
  if (poolUsed + length + 2 > pool.length) {
    const grown = new Uint16Array(pool.length * 2);
    grown.set(pool.subarray(0, poolUsed));
    pool = grown;
  }
  pool[poolUsed] = counts & 0xffff;
  pool[poolUsed + 1] = counts >>> 16;
  for (let k = 0; k < length; k++) pool[poolUsed + 2 + k] = text.charCodeAt(start + k);
  table[slot << 1] = hash;
  table[(slot << 1) + 1] = ((poolUsed << 8) | length) + 1;
  poolUsed += length + 2;
  tableCount++;
}

function samePooled(offset: number, text: string, start: number, length: number): boolean {
  for (let k = 0; k < length; k++) {
    if (pool[offset + k] !== text.charCodeAt(start + k)) return false;
  }
  return true;
}
