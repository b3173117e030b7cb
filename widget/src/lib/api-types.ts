/**
 * The shapes of the gateway's answers the widget reads, written by hand (the widget imports
 * nothing of the server) and checked against the gateway's OpenAPI document by
 * test/widget-api-types.test.ts, so a field added or renamed there fails a test here.
 */

export interface SessionUser {
  id: string;
  username: string;
  roles: string[];
  groups: string[];
}

export interface Me extends SessionUser {
  email: string | null;
  via: string;
  security?: { insecureDefaults: string[] };
}

export interface DocumentInfo {
  id: string;
  ownerId: string | null;
  filename: string;
  mime: string;
  size: number;
  access: string;
  tags: string[];
  status: string;
  progress: number;
  error: string | null;
  /** When a `waiting` document is tried again. */
  nextAttemptAt?: string | null;
  chunkCount: number;
  createdAt: string;
  updatedAt: string;
  indexedAt: string | null;
  /** false: a refused drop-folder file; nothing to open or re-index. */
  stored: boolean;
  source: string;
  sourcePath: string | null;
  /** The owner's username, in lists. */
  ownerName?: string | null;
  duplicate?: boolean;
  sha256: string;
  /** The API path of the original (`GET`, with a Bearer header or a link token). */
  contentUrl: string;
}

/** One `event: document` of `GET /documents/events`. */
export interface DocumentEvent {
  id: string;
  op: string;
  ownerId: string | null;
  access: string;
  filename: string;
  status: string;
  progress: number;
  error: string | null;
  nextAttemptAt?: string | null;
  chunkCount: number;
  indexedAt: string | null;
  updatedAt: string;
}

export interface SearchResult {
  documentId: string;
  filename: string;
  chunkIndex: number;
  text: string;
  /** Fused rank score (RRF): orders the hits, says nothing about how well they match. */
  score: number;
  /** Cosine similarity of the passage to the question (null: found by keywords only). */
  denseScore: number | null;
  page: number | null;
  /** Last page the passage covers, when it spans more than one. */
  pageEnd: number | null;
  /** [character offset in `text`, page] where each later page begins (multi-page passages). */
  pageBreaks: [number, number][] | null;
  heading: string | null;
  /** Grouped by document: the document's other matching passages, best first. */
  also?: Omit<SearchResult, 'documentId' | 'filename' | 'also'>[];
}

/** One entry of `GET /documents/queue`. */
export interface QueueItem {
  document: DocumentInfo;
  /** Place in the whole queue (running documents first). */
  position: number;
  /** Seconds until indexed, from the measured throughput; null: not measured yet, or waiting for a retry. */
  etaSeconds: number | null;
}

/** `GET /documents/queue`: your queued documents; the totals count everyone's. */
export interface QueueInfo {
  items: QueueItem[];
  total: number;
  running: number;
  throughput: { bytesPerSecond: number; documents: number } | null;
}

export interface UserInfo {
  id: string;
  username: string;
  email: string | null;
  roles: string[];
  groups: string[];
  disabled: boolean;
  createdAt: string;
}

export interface ApiKeyInfo {
  id: string;
  /** The owner's user id. */
  userId: string;
  name: string;
  prefix: string;
  roles: string[];
  /** null: everything its owner may do. */
  scopes: string[] | null;
  /** The owner's username (admins' list of every key). */
  owner?: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** `GET /config`: what the server accepts, known before anything is sent. */
export interface PublicConfig {
  upload: { maxBytes: number; maxMb: number; extensions: string[] };
}

export type DependencyStatus = 'ok' | 'degraded' | 'down';

/** `GET /ready`: each dependency (postgres, qdrant, embedder, chat, ingestor) with a reason when not ok. */
export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, { status: DependencyStatus; reason?: string }>;
}
