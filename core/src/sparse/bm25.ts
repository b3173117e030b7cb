// CommonJS without static named exports: Node's ESM loader only offers its default export.
import murmur from 'murmurhash3js-revisited';
import snowball from 'snowball-stemmers';
import { ENGLISH_STOPWORDS } from './stopwords.js';

/**
 * Client-side BM25 sparse vectors, compatible with FastEmbed's `Qdrant/bm25` (English):
 * same tokens, same indices, same document weights, so a collection filled by either can be
 * queried by the other. Qdrant supplies the IDF half at query time: the collection's sparse
 * vector must be created with `modifier: "idf"`.
 *
 * Pipeline (FastEmbed `Bm25.raw_embed` / `query_embed`):
 *  1. lower-case; every character that is not a letter, digit or `_` separates tokens
 *     (FastEmbed's `remove_non_alphanumeric` + `SimpleTokenizer`, i.e. Python's `\w`);
 *  2. drop English stopwords (NLTK list) and tokens longer than 40 characters;
 *  3. Snowball English (Porter2) stem — `snowball-stemmers`, the same algorithm FastEmbed runs
 *     through `py_rust_stemmers`;
 *  4. index = |mmh3.hash(stem)|: MurmurHash3 x86-32, seed 0, over the UTF-8 bytes, read as a
 *     signed 32-bit integer, absolute value;
 *  5. document value = tf·(k+1) / (tf + k·(1 − b + b·|d|/avg_len)), k = 1.2, b = 0.75,
 *     |d| = number of tokens kept; query value = 1 for each distinct stem. avg_len is
 *     FastEmbed's fixed 256 unless the caller passes the corpus's measured average (the ingestor
 *     does, from `chunks.bm25_length`).
 *
 * Known differences from FastEmbed: JavaScript's `toLowerCase` and `\p{L}\p{N}` classes follow a
 * newer Unicode version than some Pythons, so a handful of rare characters (e.g. `İ`, some
 * numeric symbols) may tokenise differently; the stemmer port is older than `rust-stemmers` but
 * implements the same Porter2 algorithm including its exception list. Values are float64 here,
 * float32 in FastEmbed; Qdrant stores float32 either way.
 */

export interface SparseVector {
  indices: number[];
  values: number[];
}

export const BM25_K = 1.2;
export const BM25_B = 0.75;
export const BM25_AVG_LEN = 256;
const TOKEN_MAX_LENGTH = 40;

const stemmer = snowball.newStemmer('english');
/**
 * Stems already computed: stemming was the ingestor's largest CPU cost (a sixth of it on small
 * files), and words repeat (Zipf), so most look-ups hit. Emptied when full, to bound memory.
 */
const stems = new Map<string, string>();
const STEM_CACHE_MAX = 200_000;
function stem(token: string): string {
  let s = stems.get(token);
  if (s === undefined) {
    s = stemmer.stem(token);
    if (stems.size >= STEM_CACHE_MAX) stems.clear();
    stems.set(token, s);
  }
  return s;
}
const utf8 = new TextEncoder();
/** Python's `\w` for str: letters, digits (all Unicode numbers) and underscore. */
const NON_WORD = /[^\p{L}\p{N}_]+/u;

/** The stemmed, stopword-free tokens FastEmbed's BM25 would count for `text`. */
export function bm25Tokens(text: string): string[] {
  const out: string[] = [];
  for (const token of text.toLowerCase().split(NON_WORD)) {
    if (!token || ENGLISH_STOPWORDS.has(token)) continue;
    // Python's len() counts code points, not UTF-16 units.
    if (token.length > TOKEN_MAX_LENGTH && [...token].length > TOKEN_MAX_LENGTH) continue;
    const stemmed = stem(token);
    if (stemmed) out.push(stemmed);
  }
  return out;
}

/** `abs(mmh3.hash(token))`: the sparse index FastEmbed gives a token. */
export function bm25TokenId(token: string): number {
  return Math.abs(murmur.x86.hash32(utf8.encode(token), 0) | 0);
}

/**
 * Sparse vector of a passage to store: BM25 term-frequency weights. Empty text → empty vector.
 * `tokens`: the text's bm25Tokens when the caller has them already (the ingestor counts them first).
 */
export function encodeDocument(
  text: string,
  avgLength: number = BM25_AVG_LEN,
  tokens: string[] = bm25Tokens(text),
): SparseVector {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const avg = avgLength > 0 ? avgLength : BM25_AVG_LEN;
  const norm = BM25_K * (1 - BM25_B + (BM25_B * tokens.length) / avg);
  // Two stems can in theory hash to one index; FastEmbed's dict keeps the last one written, and
  // so does this Map, in the same (first-seen) order.
  const byIndex = new Map<number, number>();
  for (const [token, tf] of counts) byIndex.set(bm25TokenId(token), (tf * (BM25_K + 1)) / (tf + norm));
  return { indices: [...byIndex.keys()], values: [...byIndex.values()] };
}

/** Sparse vector of a search query: weight 1 per distinct stem (Qdrant's IDF does the rest). */
export function encodeQuery(text: string): SparseVector {
  const indices = [...new Set(bm25Tokens(text).map(bm25TokenId))];
  return { indices, values: indices.map(() => 1) };
}
