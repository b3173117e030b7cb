export * from './row.js';
export * from './lifecycle.js';
