/** What the chat site's sign-in shares between its routes (index.ts, handoff.ts). */
import type { UserRow } from '../../plugins/app/repositories/users.js';

/** `__Host-`: the browser keeps it for exactly this host, Secure, Path=/ (no Domain can widen it). */
export const SESSION_COOKIE = '__Host-rattgllm-chat';
export const CSRF_COOKIE = '__Host-rattgllm-csrf';
/** What Caddy copies to Open WebUI; the Caddyfile and docker-compose.yml name the same four. */
export const TRUSTED_HEADERS = {
  email: 'X-Rattgllm-Email',
  name: 'X-Rattgllm-Name',
  groups: 'X-Rattgllm-Groups',
  role: 'X-Rattgllm-Role',
} as const;
/** Accounts that are not people (Open WebUI's key owner) never get a chat session. */
export const isServiceOnly = (u: Pick<UserRow, 'roles'>) =>
  !u.roles.includes('user') && !u.roles.includes('admin');

export const SESSION_COOKIE_OPTIONS = { path: '/', httpOnly: true, secure: true } as const;
