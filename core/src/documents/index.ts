export * from './row.js';
export * from './lifecycle.js';
export * from './lost-jobs.js';
export * from './refusals.js';
