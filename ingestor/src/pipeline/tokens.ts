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
 */
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

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

/** Conservative token count of `text` for the embedding model (see the module comment). */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const bpe = countBpe(text);
  // The lower bound can only win when the text has more "units" than BPE tokens, which needs at
  // least as many characters as the BPE count; skip the scan when it cannot matter.
  if (text.length < bpe) return bpe;
  const floor = wordPieceLowerBound(text);
  return floor > bpe ? floor : bpe;
}

/**
 * cl100k count, memoised per pre-token. BPE never merges across the pieces its split regex
 * makes, so the sum of per-piece counts is exactly the count of the whole text; words repeat
 * (Zipf), so most pieces are a Map hit instead of a byte-level BPE run — about 2-3× faster on
 * real documents. The memo is bounded and simply cleared when full.
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
