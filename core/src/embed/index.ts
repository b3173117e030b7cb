export * from './errors.js';
export * from './embedder.js';
