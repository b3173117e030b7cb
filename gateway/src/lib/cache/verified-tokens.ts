/**
 * Session tokens already verified, keyed by the token itself, so a chat turn does not decode and
 * HMAC-check the same token on every request. fast-jwt's own cache keys its entries by the
 * token's SHA-256, a hash per request that cost more than the look-up (issue #12), and warns
 * about any other key. Only valid tokens are stored; an entry lasts until the token's `exp`, at
 * most `maxAgeMs`. The user behind a token is still looked up on every request (plugins/app/auth.ts).
 */
export class VerifiedTokens<C extends { exp: number }> {
  private readonly entries = new Map<string, { claims: C; until: number }>();

  constructor(
    private readonly maxEntries = 1000,
    private readonly maxAgeMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): C | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.claims;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, claims: C): void {
    const now = this.now();
    const until = Math.min(claims.exp * 1000, now + this.maxAgeMs);
    if (until <= now) return;
    // Oldest first (a Map keeps insertion order).
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, until });
  }
}
