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
      // Verified tokens are cached by plugins/app/auth.ts (lib/cache/verified-tokens.ts).
      verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'exp', 'iat'] },
    });
  },
  { name: 'jwt', dependencies: ['config'] },
);
