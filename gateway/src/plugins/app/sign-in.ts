import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { verifyPassword } from '@rattgllm/core';
import type { UserRow } from './repositories/users.js';

export interface SignIn {
  /** The per-IP limit, as a route's `config.rateLimit` (counted before the body is read). */
  readonly perIp: { max: number; timeWindow: number; keyGenerator: (request: FastifyRequest) => string };
  /**
   * Counts one attempt for the username in the body; when that name is over its limit, the
   * seconds to wait (else undefined). Per username too, so one account cannot be guessed at from
   * many addresses.
   */
  limitedFor(request: FastifyRequest): Promise<number | undefined>;
  /**
   * The user these credentials belong to, or undefined (no such user, wrong password, disabled,
   * or refused by `accept`); a failure is audited as `failedAction`. A full argon2 verification
   * runs even without a user: the same answer in the same time, so names cannot be probed.
   */
  check(
    request: FastifyRequest,
    credentials: { username: string; password: string },
    options: { failedAction: string; accept?: (user: UserRow) => boolean },
  ): Promise<UserRow | undefined>;
}

/** The sentence both sign-in forms (API and chat site) show over the per-username limit. */
export const tooManyAttempts = (seconds: number) =>
  `Too many sign-in attempts for this account; try again in ${seconds} s.`;

declare module 'fastify' {
  interface FastifyInstance {
    signIn: SignIn;
  }
}

/** Signing in with a password, for `POST /auth/login` and the chat site's form: one owner. */
export default fp(
  async (fastify) => {
    const { users, audit } = fastify.repos;
    const limits = {
      max: fastify.config.LOGIN_RATE_LIMIT_MAX,
      timeWindow: fastify.config.LOGIN_RATE_LIMIT_WINDOW * 1000,
    };
    const perUsername = fastify.createRateLimit({
      ...limits,
      keyGenerator: (req) =>
        `login-user:${String((req.body as { username?: unknown })?.username ?? '').toLowerCase()}`,
    });

    fastify.decorate('signIn', {
      perIp: { ...limits, keyGenerator: (req: FastifyRequest) => `login-ip:${req.ip}` },
      async limitedFor(request) {
        const limit = await perUsername(request);
        return !limit.isAllowed && limit.isExceeded ? Math.max(1, Math.ceil(limit.ttl / 1000)) : undefined;
      },
      async check(request, { username, password }, { failedAction, accept }) {
        const user = await users.findByUsername(username);
        const ok = await verifyPassword(user?.password_hash ?? null, password);
        if (user && ok && !user.disabled && (accept?.(user) ?? true)) return user;
        await audit.record({
          action: failedAction,
          ip: request.ip,
          details: { username: username.slice(0, 128) },
        });
        return undefined;
      },
    } satisfies SignIn);
  },
  { name: 'sign-in', dependencies: ['config', 'repositories', 'rate-limit'] },
);
