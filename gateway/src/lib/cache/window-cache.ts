/**
 * The chunks passage windows were built from, kept in memory by collection, document and index
 * version, so a question about documents asked about before (a conversation's follow-ups, the
 * team's common questions) widens its passages without another Qdrant round trip.
 *
 * Safe to serve because of what it holds: chunks of one document version, which a re-index never
 * changes (a new version is a new key), only ever joined to a hit Qdrant just returned and
 * Postgres just confirmed (retrieval/retrieve.ts). The asker's principals are checked on every chunk as the
 * Qdrant filter would; an entry lives at most `ttlMs`, goes at once when its document's change is
 * announced (gateway-caches.ts), and nothing is served or stored while announcements cannot be
 * received. A fetch that was under way when something was dropped is not stored.
 */
import type { ChunkRange, StoredChunk } from '@rattgllm/core';

export interface WindowCacheOptions {
  ttlMs: number;
  /** Documents kept at most (oldest go first). */
  maxDocuments: number;
  isLive: () => boolean;
  now?: () => number;
}

interface Entry {
  version: number;
  expires: number;
  /** By chunk index, with the point id (a hit's own payload is served by it). */
  chunks: Map<number, StoredChunk>;
  /** Index ranges fetched whole: every chunk of them that exists is in `chunks`. */
  covered: [number, number][];
}

export class WindowCache {
  /** document id → collection → its chunks; a Map's order is the eviction order. */
  private readonly entries = new Map<string, Map<string, Entry>>();
  /** Bumped by every drop: a fetch that began before one must not store what it read. */
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: WindowCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxDocuments > 0 && this.options.isLive();
  }

  /** Marks the start of a fetch (pass it to `store`). */
  begin(): number {
    return this.epoch;
  }

  /** Of `ranges`, the chunks held for the ones cached whole, and the ranges that are not. */
  lookup(
    collection: string,
    principals: readonly string[],
    ranges: readonly ChunkRange[],
  ): { chunks: StoredChunk[]; missing: ChunkRange[] } {
    const chunks: StoredChunk[] = [];
    const missing: ChunkRange[] = [];
    const now = this.now();
    const on = this.enabled;
    for (const r of ranges) {
      const e = on ? this.entries.get(r.documentId)?.get(collection) : undefined;
      let held: StoredChunk[] | undefined;
      if (
        e &&
        e.version === r.version &&
        e.expires > now &&
        e.covered.some(([a, b]) => a <= r.from && r.to <= b)
      ) {
        held = [];
        for (let i = r.from; i <= r.to; i++) {
          const c = e.chunks.get(i);
          if (c) held.push(c);
        }
      }
      // The Qdrant filter's check, on what is held: none of it unless the asker holds a principal.
      if (held?.length && held.every((c) => c.payload.principals.some((p) => principals.includes(p))))
        chunks.push(...held);
      else missing.push(r);
    }
    return { chunks, missing };
  }

  /** What a fetch of `ranges` (begun at `since`) returned; a range it returned nothing of is not kept. */
  store(
    collection: string,
    since: number,
    ranges: readonly ChunkRange[],
    chunks: readonly StoredChunk[],
  ): void {
    if (!this.enabled || since !== this.epoch) return;
    const expires = this.now() + this.options.ttlMs;
    for (const r of ranges) {
      const got = chunks.filter(
        ({ payload: c }) =>
          c.document_id === r.documentId &&
          c.version === r.version &&
          c.chunk_index >= r.from &&
          c.chunk_index <= r.to,
      );
      // Nothing, not even the hit's own chunk: the asker's principals hid it (a payload being
      // updated) — not an answer to keep for anyone.
      if (got.length === 0) continue;
      const byCollection = this.entries.get(r.documentId) ?? new Map<string, Entry>();
      // Asked for again: the last to be evicted.
      this.entries.delete(r.documentId);
      this.entries.set(r.documentId, byCollection);
      let e = byCollection.get(collection);
      if (!e || e.version !== r.version || e.expires <= this.now()) {
        e = { version: r.version, expires, chunks: new Map(), covered: [] };
        byCollection.set(collection, e);
      }
      for (const c of got) e.chunks.set(c.payload.chunk_index, c);
      if (!e.covered.some(([a, b]) => a <= r.from && r.to <= b)) e.covered.push([r.from, r.to]);
    }
    while (this.entries.size > this.options.maxDocuments)
      this.entries.delete(this.entries.keys().next().value!);
  }

  /** A document changed (status, access, a new version, deleted): its chunks go, in every collection. */
  invalidate(documentId: string): void {
    this.epoch++;
    this.entries.delete(documentId);
  }

  clear(): void {
    this.epoch++;
    this.entries.clear();
  }

  /** Whether chunks of this document are held (in any collection). */
  has(documentId: string): boolean {
    return this.entries.has(documentId);
  }

  /** Documents held. */
  get size(): number {
    return this.entries.size;
  }
}
