import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from '../src/lib/cache/verified-tokens.js';

describe('verified session tokens', () => {
  const at = { t: 1_000_000_000_000 };
  const now = () => at.t;
  const claims = (expInS: number) => ({ sub: 'u', exp: Math.floor(at.t / 1000) + expInS });

  it('serves a token until its exp, then forgets it', () => {
    const cache = new VerifiedTokens(10, 600_000, now);
    const c = claims(60);
    cache.set('a.b.c', c);
    expect(cache.get('a.b.c')).toBe(c);
    expect(cache.get('a.b.d')).toBeUndefined();
    at.t += 59_000;
    expect(cache.get('a.b.c')).toBe(c);
    at.t += 1_000;
    expect(cache.get('a.b.c')).toBeUndefined();
  });

  it('keeps a long-lived token at most maxAgeMs, and never stores an expired one', () => {
    const cache = new VerifiedTokens(10, 1_000, now);
    cache.set('long', claims(3600));
    at.t += 999;
    expect(cache.get('long')).toBeDefined();
    at.t += 1;
    expect(cache.get('long')).toBeUndefined();
    cache.set('expired', claims(-1));
    expect(cache.get('expired')).toBeUndefined();
  });

  it('drops the oldest token beyond maxEntries', () => {
    const cache = new VerifiedTokens(2, 600_000, now);
    cache.set('one', claims(60));
    cache.set('two', claims(60));
    cache.set('three', claims(60));
    expect(cache.get('one')).toBeUndefined();
    expect(cache.get('two')).toBeDefined();
    expect(cache.get('three')).toBeDefined();
  });
});
