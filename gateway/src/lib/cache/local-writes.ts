import type { Knex } from '@rattgllm/core';
import type { CachedTable, GatewayCaches } from './gateway-caches.js';

const WRITE = /^\s*(?:update|insert\s+into|delete\s+from)\s+"?(users|api_keys|documents)"?\s/i;
// Bookkeeping that changes nothing a cache holds (apiKeys.touch, once a minute per key).
const LAST_USED = /^\s*update\s+"?api_keys"?\s+set\s+"?last_used_at"?\s*=\s*[^,]+\s+where/i;

/**
 * This process's own writes (routes, and tests writing through `app.db`) drop the affected
 * caches the moment Postgres answers, without waiting for their NOTIFY to come back on the
 * LISTEN connection: a request that follows a revoke, a disable or an access change on this
 * gateway never sees the old state. Inside a transaction the NOTIFY (sent at commit) is what
 * counts; routes that change documents in one also call `invalidate` after the commit.
 */
export function dropCachesOnLocalWrites(db: Knex, caches: GatewayCaches): () => void {
  const onResponse = (_response: unknown, query: { sql?: unknown }) => {
    if (typeof query?.sql !== 'string') return;
    const m = WRITE.exec(query.sql);
    if (!m || LAST_USED.test(query.sql)) return;
    caches.invalidateTable(m[1]!.toLowerCase() as CachedTable);
  };
  db.on('query-response', onResponse);
  return () => void db.off('query-response', onResponse);
}
