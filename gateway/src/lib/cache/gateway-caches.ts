import { startListener, type Listener } from './listener.js';
import { NotifiedCache } from './notified-cache.js';
import { WindowCache } from './window-cache.js';
import type { UserRow } from '../../plugins/app/repositories/users.js';
import type { ApiKeyRow } from '../../plugins/app/repositories/apiKeys.js';
import type { DocumentAccessRow } from '../../plugins/app/repositories/documentAccess.js';

/** Announced by the triggers of migration 20261201001000 as `<table>:<id>`. */
export const CACHE_CHANNEL = 'rattg_cache';
/** Document status, access, insert and delete (migration 20261125000002), JSON with `id`. */
export const DOCUMENT_CHANNEL = 'document_status';

/**
 * What a chat turn would otherwise read from Postgres on every request: the caller's API key and
 * user (auth), the Open WebUI user behind an email (identity), and the owner, access, status
 * and tags of the documents vector search returned (the access re-check).
 */
/** Document access facts live this many times GATEWAY_CACHE_TTL_MS. */
export const DOCUMENT_TTL_FACTOR = 12;
/**
 * Keys and users are served this many times GATEWAY_CACHE_TTL_MS past it while one read refreshes
 * them beside the request, so a chat turn never waits for that read (it was one turn in 15).
 */
export const STALE_FACTOR = 12;

export type CachedTable = 'users' | 'api_keys' | 'documents';

export interface GatewayCaches {
  usersById: NotifiedCache<string, UserRow | undefined>;
  /** Keyed by lower-cased email. */
  usersByEmail: NotifiedCache<string, UserRow | undefined>;
  apiKeysByPrefix: NotifiedCache<string, ApiKeyRow | undefined>;
  apiKeysByHash: NotifiedCache<string, ApiKeyRow | undefined>;
  /** null: no such row. */
  documents: NotifiedCache<string, DocumentAccessRow | null>;
  /** The chunks passage windows were built from (window-cache.ts), dropped with their document's facts. */
  windows: WindowCache;
  /** Drops what a change to this row could make wrong. */
  invalidate(table: CachedTable, id: string): void;
  /** Drops everything cached from this table (a write of this process, rows unknown). */
  invalidateTable(table: CachedTable): void;
  readonly live: boolean;
  /** Resolves once the LISTEN connection is up (tests). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface GatewayCachesOptions {
  databaseUrl: string;
  ttlMs: number;
  maxEntries?: number;
  /** PASSAGE_WINDOW_CACHE_DOCUMENTS (0: no window cache). */
  windowDocuments?: number;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export function createGatewayCaches(options: GatewayCachesOptions): GatewayCaches {
  let listener: Listener | null = null;
  const isLive = () => listener?.live ?? false;
  const opts = { ttlMs: options.ttlMs, maxEntries: options.maxEntries ?? 10_000, isLive };
  // Stale-while-revalidate is safe here: every change to a key or user is announced and drops
  // its entry at once, stale or not (and nothing is served while announcements cannot arrive).
  const auth = { ...opts, staleMs: options.ttlMs * STALE_FACTOR };
  const usersById = new NotifiedCache<string, UserRow | undefined>(auth);
  const usersByEmail = new NotifiedCache<string, UserRow | undefined>(auth);
  const apiKeysByPrefix = new NotifiedCache<string, ApiKeyRow | undefined>(auth);
  const apiKeysByHash = new NotifiedCache<string, ApiKeyRow | undefined>(auth);
  // Documents are many and each question touches a different few, so their facts are kept 12×
  // as long (60 s by default) to be there when asked for again; every change to them is
  // announced like the others, so the time only bounds a missed announcement.
  const documents = new NotifiedCache<string, DocumentAccessRow | null>({
    ...opts,
    ttlMs: options.ttlMs * DOCUMENT_TTL_FACTOR,
    maxEntries: options.maxEntries ?? 100_000,
  });
  const windows = new WindowCache({
    ttlMs: options.ttlMs * DOCUMENT_TTL_FACTOR,
    maxDocuments: options.windowDocuments ?? 2_000,
    isLive,
  });
  const all = [usersById, usersByEmail, apiKeysByPrefix, apiKeysByHash, documents, windows];

  function invalidate(table: string, id: string): void {
    if (table === 'users') {
      usersById.delete(id);
      // Users change seldom; which email an entry was found by is not worth tracking.
      usersByEmail.clear();
    } else if (table === 'api_keys') {
      // A key is cached under its prefix and its hash: neither is in the announcement.
      apiKeysByPrefix.clear();
      apiKeysByHash.clear();
    } else if (table === 'documents') {
      documents.delete(id);
      windows.invalidate(id);
    }
  }

  function invalidateTable(table: CachedTable): void {
    if (table === 'users') {
      usersById.clear();
      usersByEmail.clear();
    } else if (table === 'api_keys') {
      apiKeysByPrefix.clear();
      apiKeysByHash.clear();
    } else {
      documents.clear();
      windows.clear();
    }
  }

  if (options.ttlMs > 0) {
    listener = startListener({
      connectionString: options.databaseUrl,
      channels: [CACHE_CHANNEL, DOCUMENT_CHANNEL],
      onNotification(channel, payload) {
        if (channel === CACHE_CHANNEL) {
          const i = payload.indexOf(':');
          if (i > 0) invalidate(payload.slice(0, i), payload.slice(i + 1));
          return;
        }
        try {
          const { id } = JSON.parse(payload) as { id?: unknown };
          if (typeof id === 'string') {
            documents.delete(id);
            windows.invalidate(id);
          }
        } catch {
          // Unreadable: whatever it was about may be cached.
          documents.clear();
          windows.clear();
        }
      },
      // Emptied both ways: changes made while nobody listened may be in any entry.
      onLive(live) {
        for (const c of all) c.clear();
        options.log.info({ live }, live ? 'gateway caches on' : 'gateway caches off until Postgres is back');
      },
      onError(err, retryMs) {
        options.log.warn(
          { err, retryMs },
          'cache invalidation: LISTEN connection lost; reading Postgres meanwhile',
        );
      },
    });
  }

  return {
    usersById,
    usersByEmail,
    apiKeysByPrefix,
    apiKeysByHash,
    documents,
    windows,
    invalidate,
    invalidateTable,
    get live() {
      return isLive();
    },
    ready: listener?.ready ?? Promise.resolve(),
    close: async () => {
      await listener?.close();
      for (const c of all) c.clear();
    },
  };
}
