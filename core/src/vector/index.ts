export * from './errors.js';
export * from './ids.js';
export * from './vectorIndex.js';
export * from './aliases.js';
export * from './generations.js';
export * from './serving.js';
export * from './metrics.js';
export * from './progress.js';
