// Type declarations for two small untyped CommonJS libraries used by the BM25 encoder.
declare module 'snowball-stemmers' {
  export interface Stemmer {
    stem(word: string): string;
  }
  export function newStemmer(language: string): Stemmer;
  export function algorithms(): string[];
}

declare module 'murmurhash3js-revisited' {
  /** MurmurHash3 x86 32-bit of the given bytes; returns the unsigned 32-bit value. */
  export const x86: { hash32(bytes: Uint8Array | number[], seed?: number): number };
}
