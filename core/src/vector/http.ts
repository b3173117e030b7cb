import { Agent, request } from 'undici';

/**
 * Qdrant's hot read endpoints (the search's query batch, the windows' scroll), called with
 * undici's `request` on a pool of its own instead of the client's `fetch`: on every chat turn
 * the client's fetch costs about 0.3 ms per call more, and it parses each answer with a BigInt
 * reviver (our point ids are UUIDs; a plain JSON.parse reads everything these answers hold).
 * A failed call throws what the client's would (`status`, `data`, `headers`), so
 * translateQdrantError reads both alike. Everything else goes through the client.
 */
export interface QdrantHttp {
  /** POSTs `body` to `path` (below the Qdrant URL) and resolves with the answer's `result`. */
  post<T>(path: string, body: unknown): Promise<T>;
}

/** The client's own default (QdrantClient's `timeout`). */
const TIMEOUT_MS = 300_000;

export function createQdrantHttp(url: string, apiKey?: string): QdrantHttp {
  const agent = new Agent({ keepAliveTimeout: 10_000, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(apiKey ? { 'api-key': apiKey } : {}),
  };
  return {
    async post<T>(path: string, body: unknown): Promise<T> {
      const res = await request(`${url}${path}`, {
        method: 'POST',
        dispatcher: agent,
        headers,
        body: JSON.stringify(body),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200 && res.statusCode !== 201) {
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        throw Object.assign(new Error(`Qdrant answered HTTP ${res.statusCode}`), {
          status: res.statusCode,
          data,
          headers: h,
        });
      }
      return (JSON.parse(text) as { result: T }).result;
    },
  };
}

/** A collection's path segment. */
export const collectionPath = (collection: string) => `/collections/${encodeURIComponent(collection)}`;
