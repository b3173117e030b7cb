import { createSigner, createVerifier, TokenError } from 'fast-jwt';

/** Why a signed token was refused; logged, never sent to the client. */
export type Hs256Failure = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'issuer' | 'claims';

export type Hs256Result = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: Hs256Failure };

export interface Hs256Options {
  /** When given, a token that names an `iss` must name this one (Open WebUI: `open-webui`). */
  issuer?: string;
  /** Clock skew allowed on `exp` and `nbf` (default 30 s). */
  clockToleranceSec?: number;
}

const REASONS: Record<string, Hs256Failure> = {
  [TokenError.codes.malformed]: 'malformed',
  [TokenError.codes.invalidType]: 'malformed',
  [TokenError.codes.invalidPayload]: 'malformed',
  [TokenError.codes.invalidAlgorithm]: 'algorithm',
  [TokenError.codes.invalidSignature]: 'signature',
  [TokenError.codes.missingSignature]: 'signature',
  [TokenError.codes.expired]: 'expired',
  [TokenError.codes.inactive]: 'claims',
};

/**
 * A verifier of compact HS256 JWTs (RFC 7519), built on fast-jwt (the library @fastify/jwt
 * uses). The algorithm is pinned before the signature is checked, so `alg: none` and
 * algorithm-confusion tokens are refused; `exp` is required (a token without one would be valid
 * forever); `iss`, when present and `issuer` is given, must match.
 */
export function createHs256Verifier(
  secret: string,
  options: Hs256Options = {},
): (token: string) => Hs256Result {
  const verify = createVerifier({
    key: secret,
    algorithms: ['HS256'],
    requiredClaims: ['exp'],
    clockTolerance: (options.clockToleranceSec ?? 30) * 1000,
    ...(options.issuer !== undefined ? { allowedIss: options.issuer } : {}),
  });
  return (token) => {
    try {
      const claims: unknown = verify(token);
      if (!claims || typeof claims !== 'object' || Array.isArray(claims))
        return { ok: false, reason: 'malformed' };
      return { ok: true, claims: claims as Record<string, unknown> };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const message = (err as Error).message ?? '';
      // A missing or non-numeric `exp` counts as expired (no lifetime), a wrong `iss` as the issuer.
      if (/\bexp claim\b/.test(message)) return { ok: false, reason: 'expired' };
      if (/\biss claim\b/.test(message)) return { ok: false, reason: 'issuer' };
      return { ok: false, reason: REASONS[code] ?? 'claims' };
    }
  };
}

/** Signs an HS256 JWT (no `iat` added); used by tests and the benchmark to play Open WebUI. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  return createSigner({ key: secret, algorithm: 'HS256', noTimestamp: true })(claims);
}
