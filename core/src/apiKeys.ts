import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `rk_<prefix>_<secret>`: the 8-character prefix finds the row, the SHA-256 of
 * the whole key proves it. Only the hash is stored; the key is shown to its owner once.
 */
const KEY_RE = /^rk_([a-z0-9]{8})_([A-Za-z0-9_-]{32,})$/;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(6)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 8);
  const key = `rk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function parseApiKey(token: string): { prefix: string } | null {
  const m = KEY_RE.exec(token);
  return m ? { prefix: m[1]! } : null;
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('rk_');
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
