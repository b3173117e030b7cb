import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';

/** Claims of the tokens `POST /auth/login` issues. */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  roles: string[];
  /** Set on narrow tokens (e.g. `sse` for EventSource URLs); such tokens are not login sessions. */
  scope?: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims;
    user: AccessTokenClaims & { iat: number; exp: number };
  }
}

/**
 * HS256 only, for signing and for verifying: pinning the algorithm rejects `alg: none` and
 * algorithm-confusion tokens before any claim is looked at.
 */
export default fp(
  async (fastify) => {
    await fastify.register(jwt, {
      secret: fastify.config.JWT_SECRET,
      sign: { algorithm: 'HS256', expiresIn: fastify.config.JWT_EXPIRES_IN },
      // `cache`: a token seen before is not decoded and HMAC-checked again on every request
      // (fast-jwt keeps it until its `exp`, at most 10 minutes); who it names is still looked up.
      // Keyed by the token itself: fast-jwt's default key is its SHA-256, a hash per request
      // that cost more than the lookup it keys (issue #12); 1,000 tokens of ~300 bytes.
      verify: {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp', 'iat'],
        cache: true,
        cacheKeyBuilder: (token: string) => token,
      },
    });
  },
  { name: 'jwt', dependencies: ['config'] },
);
