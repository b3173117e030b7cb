/** Where the JWT lives: the tab's sessionStorage (default), localStorage, or memory only. */
export type TokenStorage = 'session' | 'local' | 'memory';

export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export function parseTokenStorage(value: string | null | undefined): TokenStorage {
  return value === 'local' || value === 'memory' ? value : 'session';
}

/** A store keyed by the API base, so two widgets for two servers on one page keep their own. */
export function createTokenStore(kind: TokenStorage, apiBase: string): TokenStore {
  const key = `rattg-widget-token:${apiBase}`;
  let memory: string | null = null;
  let storage: Storage | null = null;
  try {
    storage = kind === 'local' ? window.localStorage : kind === 'session' ? window.sessionStorage : null;
  } catch {
    // Storage blocked (privacy settings, sandboxed frame): memory still works for this page view.
    storage = null;
  }
  return {
    get: () => (storage ? storage.getItem(key) : memory),
    set: (token) => {
      if (storage) {
        if (token) storage.setItem(key, token);
        else storage.removeItem(key);
      } else memory = token;
    },
  };
}
