// Type declarations for two small untyped CommonJS libraries used by the BM25 encoder.
declare module 'snowball-stemmers' {
  export interface Stemmer {
    stem(word: string): string;
  }
  const snowball: { newStemmer(language: string): Stemmer; algorithms(): string[] };
  export default snowball;
}

declare module 'murmurhash3js-revisited' {
  /** MurmurHash3 x86 32-bit of the given bytes; returns the unsigned 32-bit value. */
  const murmur: { x86: { hash32(bytes: Uint8Array | number[], seed?: number): number } };
  export default murmur;
}
