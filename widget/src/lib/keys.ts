/** Words for API-key scopes and expiries, shared by "My account" and the admin tab. */

export const SCOPE_LABELS: Record<string, string> = {
  read: 'Read and search',
  chat: 'Chat',
  upload: 'Upload and change',
  admin: 'Administer users',
};

export function scopeWords(scopes: string[] | null | undefined): string {
  if (!scopes) return 'Everything you may do';
  return scopes.map((s) => SCOPE_LABELS[s] ?? s).join(', ');
}

/** Expiry choices, in days (0: never). */
export const EXPIRY_DAYS = [7, 30, 90, 365, 0] as const;

export function expiryLabel(days: number): string {
  if (days === 0) return 'Never';
  if (days === 365) return '1 year';
  return `${days} days`;
}

export function keyState(
  k: { revokedAt: string | null; expiresAt: string | null },
  now = Date.now(),
): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && new Date(k.expiresAt).getTime() <= now) return 'expired';
  return '';
}
