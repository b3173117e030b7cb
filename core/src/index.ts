// The public surface of @rattgllm/core. Gateway and ingestor import from here only.
export * from './config.js';
export * from './errors.js';
export * from './retry.js';
export * from './logger.js';
export * from './access.js';
export * from './passwords.js';
export * from './apiKeys.js';
export * from './db/knex.js';
export * from './db/migrate.js';
export * from './queue.js';
export * from './storage.js';
export * from './files.js';
export * from './streams.js';
export * from './embed/index.js';
export * from './sparse/index.js';
export * from './vector/index.js';
export * from './documents.js';
