/** The WordPiece floor of tokens.ts's conservative count. */
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
