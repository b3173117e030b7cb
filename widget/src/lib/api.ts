/**
 * The gateway's HTTP API as the widget uses it. Every request carries the stored JWT as
 * `Authorization: Bearer`; a 401 on a signed-in request fires `unauthorized` so the container can
 * return to the login form with the server's message. No API key or secret is kept here.
 */
import type { TokenStore } from './token-store.js';

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
  stored?: boolean;
  source?: string;
  sourcePath?: string | null;
  /** The owner's username, in lists. */
  ownerName?: string | null;
  duplicate?: boolean;
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
  denseScore?: number | null;
  page: number | null;
  /** Last page the passage covers, when it spans more than one. */
  pageEnd?: number | null;
  heading: string | null;
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

/** An error answer of the API (`{statusCode, error, message, code}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 400 VALIDATION_ERROR: one sentence per field name. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  0: 'The server cannot be reached; check the connection and try again',
  401: 'Please sign in',
  403: 'You are not allowed to do that',
  404: 'Not found',
  413: 'The file is too large',
  415: 'This file type is not supported',
  429: 'Too many attempts; wait a moment and try again',
  502: 'The server is unavailable; try again in a moment',
  503: 'The server is unavailable; try again in a moment',
};

/** Turn a status and a response body (JSON or not) into an ApiError with words for a person. */
export function toApiError(status: number, bodyText: string): ApiError {
  try {
    const body = JSON.parse(bodyText) as { message?: unknown; code?: unknown; fields?: unknown };
    if (typeof body.message === 'string' && body.message)
      return new ApiError(
        status,
        typeof body.code === 'string' ? body.code : 'ERROR',
        body.message,
        body.fields && typeof body.fields === 'object' ? (body.fields as Record<string, string>) : {},
      );
  } catch {
    // Not JSON (a proxy's own page): fall back to words of our own.
  }
  return new ApiError(
    status,
    status === 0 ? 'NETWORK_ERROR' : `HTTP_${status}`,
    FALLBACK_MESSAGES[status] ?? `The request failed (HTTP ${status})`,
  );
}

export interface UploadHandle {
  /** Settles with the server's documents, or rejects with an ApiError (also when aborted). */
  done: Promise<DocumentInfo[]>;
  abort(): void;
}

/** Fired on the client when a signed-in request is refused with 401 (expired, revoked, deleted). */
export interface UnauthorizedDetail {
  message: string;
  code: string;
}

export class ApiClient extends EventTarget {
  constructor(
    /** Prefix of every path: "/api" behind Caddy, "" against the gateway itself. */
    readonly base: string,
    readonly tokens: TokenStore,
  ) {
    super();
  }

  get token(): string | null {
    return this.tokens.get();
  }

  url(path: string): string {
    return `${this.base.replace(/\/+$/, '')}${path}`;
  }

  private refused(err: ApiError, hadToken: boolean): void {
    if (err.status === 401 && hadToken) {
      this.tokens.set(null);
      this.dispatchEvent(
        new CustomEvent<UnauthorizedDetail>('unauthorized', {
          detail: { message: err.message, code: err.code },
        }),
      );
    }
  }

  /** One JSON request; a 401 on a signed-in request signs out (see `refused`). */
  private async send(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<{ status: number; text: string; token: string | null }> {
    const token = this.token;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
        credentials: 'same-origin',
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw toApiError(0, '');
    }
    return { status: res.status, text: res.status === 204 ? '' : await res.text(), token };
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const { status, text, token } = await this.send(method, path, body, signal);
    if (status < 200 || status > 299) {
      const err = toApiError(status, text);
      this.refused(err, Boolean(token));
      throw err;
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** `GET /ready`. Its 503 (Postgres down) still carries the report, so that is returned too. */
  async ready(signal?: AbortSignal): Promise<Readiness> {
    const { status, text } = await this.send('GET', '/ready', undefined, signal);
    if (status === 200 || status === 503) {
      try {
        const body = JSON.parse(text) as Partial<Readiness>;
        if (body.checks && typeof body.checks === 'object') return body as Readiness;
      } catch {
        // Not the gateway's report (a proxy's error page): an ApiError below.
      }
    }
    throw toApiError(status, text);
  }

  /** A one-minute ticket that signs this user in on the chat site (POST it to /chat-sso/handoff there). */
  async chatTicket(): Promise<string> {
    return (await this.request<{ ticket: string }>('POST', '/chat-sso/ticket')).ticket;
  }

  async login(username: string, password: string): Promise<{ user: SessionUser; expiresIn: number }> {
    const res = await this.request<{ access_token: string; expires_in: number; user: SessionUser }>(
      'POST',
      '/auth/login',
      { username, password },
    );
    this.tokens.set(res.access_token);
    return { user: res.user, expiresIn: res.expires_in };
  }

  logout(): void {
    this.tokens.set(null);
  }

  me(): Promise<Me> {
    return this.request<Me>('GET', '/auth/me');
  }

  private configOnce: Promise<PublicConfig> | null = null;
  /** The server's public limits, fetched once per client (a failure is retried next time). */
  config(): Promise<PublicConfig> {
    this.configOnce ??= this.request<PublicConfig>('GET', '/config').catch((err: unknown) => {
      this.configOnce = null;
      throw err;
    });
    return this.configOnce;
  }

  /** One file, one request: the progress and the error belong to that file. */
  upload(
    file: File,
    fields: { access: string; tags: string },
    onProgress: (loaded: number, total: number) => void,
  ): UploadHandle {
    const xhr = new XMLHttpRequest();
    const token = this.token;
    const done = new Promise<DocumentInfo[]>((resolve, reject) => {
      const form = new FormData();
      form.append('access', fields.access);
      if (fields.tags.trim()) form.append('tags', fields.tags);
      form.append('file', file, file.name);
      xhr.open('POST', this.url('/upload'));
      if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0));
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(file.size, file.size);
          resolve((JSON.parse(xhr.responseText) as { documents: DocumentInfo[] }).documents);
          return;
        }
        const err = toApiError(xhr.status, xhr.responseText);
        this.refused(err, Boolean(token));
        reject(err);
      });
      xhr.addEventListener('error', () => reject(toApiError(0, '')));
      xhr.addEventListener('abort', () => reject(new ApiError(0, 'ABORTED', 'Upload cancelled')));
      xhr.send(form);
    });
    return { done, abort: () => xhr.abort() };
  }

  /** The URL of the live status stream, with a fresh 60-second events token. */
  async eventsUrl(): Promise<string> {
    const { token } = await this.request<{ token: string }>('POST', '/documents/events/token');
    return this.url(`/documents/events?token=${encodeURIComponent(token)}`);
  }

  /** A URL (with a link token) that opens the original in a tab, as the gateway serves it. */
  async link(id: string): Promise<string> {
    const { url } = await this.request<{ url: string }>('POST', `/documents/${encodeURIComponent(id)}/link`);
    return this.url(url);
  }

  /** The original file as a Blob (the link needs the bearer header, so it is fetched, not linked). */
  async content(id: string): Promise<Blob> {
    const token = this.token;
    let res: Response;
    try {
      res = await fetch(this.url(`/documents/${encodeURIComponent(id)}/content?download=true`), {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    } catch {
      throw toApiError(0, '');
    }
    if (!res.ok) {
      const err = toApiError(res.status, await res.text());
      this.refused(err, Boolean(token));
      throw err;
    }
    return res.blob();
  }
}
