import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a signed token was refused; logged, never sent to the client. */
export type Hs256Failure = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'issuer' | 'claims';

export type Hs256Result = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: Hs256Failure };

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a compact HS256 JWT (RFC 7519). The algorithm is pinned before the signature is
 * checked, so `alg: none` and algorithm-confusion tokens are refused; `exp` is required (a
 * token without one would be valid forever); `iss`, when `issuer` is given, must match.
 */
export function verifyHs256(
  token: string,
  secret: string,
  options: { issuer?: string; clockToleranceSec?: number; now?: number } = {},
): Hs256Result {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
    return { ok: false, reason: 'malformed' };
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  const claims = decodeJson(p);
  if (!header || !claims) return { ok: false, reason: 'malformed' };
  if (header.alg !== 'HS256') return { ok: false, reason: 'algorithm' };
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature' };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.clockToleranceSec ?? 30;
  if (typeof claims.exp !== 'number' || claims.exp + tolerance <= now)
    return { ok: false, reason: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf - tolerance > now) return { ok: false, reason: 'claims' };
  if (options.issuer !== undefined && claims.iss !== undefined && claims.iss !== options.issuer)
    return { ok: false, reason: 'issuer' };
  return { ok: true, claims };
}

/** Signs an HS256 JWT; used by tests and the benchmark to play Open WebUI. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
