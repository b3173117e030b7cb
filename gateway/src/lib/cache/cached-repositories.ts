import { canRead, type Access, type Knex, type Principal } from '@rattgllm/core';
import type { UsersRepository } from '../../plugins/app/repositories/users.js';
import type { ApiKeysRepository } from '../../plugins/app/repositories/apiKeys.js';
import type { OpenWebUiRepository } from '../../plugins/app/repositories/openwebui.js';
import type { DocumentsRepository } from '../../plugins/app/repositories/documents.js';
import { documentAccessRows, type DocumentAccessRow } from '../../plugins/app/repositories/documentAccess.js';
import type { GatewayCaches } from './gateway-caches.js';

/**
 * The repositories with their hot-path reads served from the caches. Writes need nothing here:
 * this process's own writes drop the entries as they complete (local-writes.ts), every other
 * process's through NOTIFY. Cached rows are shared: callers must not change them.
 */

export function cachedUsersRepository(repo: UsersRepository, caches: GatewayCaches): UsersRepository {
  return {
    ...repo,
    findById: (id) => caches.usersById.get(id, () => repo.findById(id)),
    findByIdNow: (id) => caches.usersById.getNow(id, () => repo.findById(id)),
  };
}

export function cachedApiKeysRepository(
  repo: ApiKeysRepository,
  caches: GatewayCaches,
  onTouchError: (err: unknown) => void,
): ApiKeysRepository {
  return {
    ...repo,
    findByPrefix: (prefix) => caches.apiKeysByPrefix.get(prefix, () => repo.findByPrefix(prefix)),
    findByPrefixNow: (prefix) => caches.apiKeysByPrefix.getNow(prefix, () => repo.findByPrefix(prefix)),
    findByHash: (hash) => caches.apiKeysByHash.get(hash, () => repo.findByHash(hash)),
    findByHashNow: (hash) => caches.apiKeysByHash.getNow(hash, () => repo.findByHash(hash)),
    // `last_used_at` is bookkeeping: it is written beside the request, not before it. The cached
    // row is stamped at once, so the next requests within the minute do not write again.
    touch(row) {
      const write = repo.touch({ ...row });
      row.last_used_at = new Date();
      write.catch(onTouchError);
      return Promise.resolve();
    },
  };
}

/** The `whereReadable` rule (core's `canRead`) and the tag filter, on a cached row. */
export function readableNow(
  doc: DocumentAccessRow,
  principal: Principal,
  tags: readonly string[] | undefined,
): boolean {
  if (doc.status === 'deleted') return false;
  if (tags?.length && !doc.tags.some((t) => tags.includes(t))) return false;
  return canRead(principal, { ownerId: doc.owner_id, access: doc.access as Access });
}

type ReadableRows = Awaited<ReturnType<DocumentsRepository['readableAmong']>>;

export interface CachedDocumentsRepository extends DocumentsRepository {
  /** `readableAmong` answered from memory in this tick, or undefined when it needs Postgres. */
  readableCached(
    principal: Principal,
    ids: readonly string[],
    tags?: readonly string[],
  ): ReadableRows | undefined;
}

function readableRows(
  rows: Map<string, DocumentAccessRow | null>,
  principal: Principal,
  tags: readonly string[] | undefined,
): ReadableRows {
  const out: ReadableRows = [];
  for (const doc of rows.values())
    if (doc && readableNow(doc, principal, tags))
      out.push({ id: doc.id, filename: doc.filename, tags: doc.tags });
  return out;
}

/** The access re-check of vector hits (`readableAmong`) from the document access cache. */
export function cachedDocumentsRepository(
  repo: DocumentsRepository,
  db: Knex,
  caches: GatewayCaches,
): CachedDocumentsRepository {
  const load = async (missing: string[]) =>
    new Map((await documentAccessRows(db, missing)).map((r) => [r.id, r] as const));
  return {
    ...repo,
    async readableAmong(principal, ids, tags) {
      if (ids.length === 0) return [];
      if (!caches.documents.enabled) return repo.readableAmong(principal, ids, tags);
      return readableRows(await caches.documents.getMany([...new Set(ids)], load, null), principal, tags);
    },
    readableCached(principal, ids, tags) {
      if (ids.length === 0) return [];
      const rows = caches.documents.peekMany(ids);
      return rows && readableRows(rows, principal, tags);
    },
    // Their transactions have committed when these resolve: this gateway's chat and search see
    // the change now, without waiting for its NOTIFY (which does it on every other gateway).
    async changeAccess(...args) {
      const row = await repo.changeAccess(...args);
      caches.invalidate('documents', args[1]);
      return row;
    },
    async markDeleted(...args) {
      const done = await repo.markDeleted(...args);
      caches.invalidate('documents', args[1]);
      return done;
    },
  };
}

/** The Open WebUI user behind a forwarded email, from the users-by-email cache. */
export function cachedOpenWebUiRepository(
  repo: OpenWebUiRepository,
  caches: GatewayCaches,
): OpenWebUiRepository {
  return {
    ...repo,
    findUserByEmail: (email) =>
      caches.usersByEmail.get(email.toLowerCase(), () => repo.findUserByEmail(email)),
  };
}
