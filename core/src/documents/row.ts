import type { Knex } from '../db/knex.js';

/**
 * A row of `documents` (migrations/), as the gateway and the ingestor read it. `waiting`: a
 * dependency (embedder, Qdrant, storage) failed transiently and the next attempt is scheduled at
 * `next_attempt_at`, with the reason in `error`. `failed` only for what a person must fix.
 * `cancelled`: a person stopped its indexing; nothing retries it until it is re-indexed.
 */
export type DocumentStatus =
  'pending' | 'processing' | 'waiting' | 'indexed' | 'failed' | 'cancelled' | 'deleted';

/** Statuses of a document still in the ingestion queue: these can be cancelled. */
export const QUEUED_STATUSES = ['pending', 'processing', 'waiting'] as const satisfies DocumentStatus[];

export interface DocumentRow {
  id: string;
  /** Null for shared drop-folder files and documents of deleted users. */
  owner_id: string | null;
  filename: string;
  mime: string;
  size: number;
  sha256: string;
  /** '' for a drop-folder refusal entry (nothing stored). */
  storage_key: string;
  source: 'upload' | 'drop';
  source_path: string | null;
  /** `private`, `org` or `group:<name>`. */
  access: string;
  tags: string[];
  status: DocumentStatus;
  progress: number;
  error: string | null;
  /** When a `waiting` document is tried again; null otherwise. */
  next_attempt_at: Date | null;
  chunk_count: number;
  version: number;
  created_at: Date;
  updated_at: Date;
  indexed_at: Date | null;
  /** sha256 of the content the current points were made from. */
  indexed_sha256: string | null;
  /** Chunker version, embedding model and dimension, chunk size and overlap of the current index. */
  index_signature: string | null;
  /** When the current or last indexing run began (the queue view measures throughput from it). */
  processing_started_at: Date | null;
  parser: string | null;
  warnings: string[];
}

/**
 * "Not deleted", written once. A `deleted` row is gone for everybody at once (lists, downloads,
 * search re-check, status writes of a job still running); the delete job removes the rest later.
 */
export function whereLive<Q extends Knex.QueryBuilder>(query: Q, table = 'documents'): Q {
  return query.whereNot(`${table}.status`, 'deleted') as Q;
}

/** The in-memory twin of `whereLive`: a row that exists and is not deleted. */
export function isLive<T extends Pick<DocumentRow, 'status'>>(
  doc: T | null | undefined,
): doc is T & { status: Exclude<DocumentStatus, 'deleted'> } {
  return !!doc && doc.status !== 'deleted';
}
