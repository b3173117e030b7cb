export * from './bm25.js';
export { ENGLISH_STOPWORDS } from './stopwords.js';
