/**
 * The gateway's HTTP API as the widget uses it. Every request carries the stored JWT as
 * `Authorization: Bearer`; a 401 on a signed-in request fires `unauthorized` so the container can
 * return to the login form with the server's message. No API key or secret is kept here.
 */
import type { TokenStore } from './token-store.js';
import { ApiError, toApiError } from './api-error.js';
import type { DocumentInfo, Me, PublicConfig, Readiness, SessionUser } from './api-types.js';

export * from './api-types.js';
export { ApiError, toApiError } from './api-error.js';

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
