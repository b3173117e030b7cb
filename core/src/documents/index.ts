export * from './row.js';
export * from './lifecycle.js';
export * from './refusals.js';
