import fp from 'fastify-plugin';
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { hashApiKey, hashPassword, parseApiKey, principalsOf } from '@rattgllm/core';
import { verifyHs256 } from '../../lib/hs256.js';
import type { AuthUser } from './auth.js';
import { NOBODY, type RetrievalIdentity } from '../../retrieval/retrieve.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Whose documents a /v1 request may read (after `authenticate`). */
    retrievalIdentity(request: FastifyRequest): Promise<RetrievalIdentity>;
  }
}

export const OPENWEBUI_USERNAME = 'openwebui';
export const OPENWEBUI_KEY_NAME = 'Open WebUI (OPENWEBUI_API_KEY)';
export const USER_JWT_HEADER = 'x-openwebui-user-jwt';
export const PLAIN_EMAIL_HEADER = 'x-openwebui-user-email';

/**
 * The API-key row an env-provided secret is stored under. A secret in our own `rk_<prefix>_…`
 * format keeps its prefix; any other string gets one derived from its hash (auth finds such
 * keys by hash, see auth.ts).
 */
export function serviceKeyRow(secret: string): { prefix: string; hash: string } {
  const prefix =
    parseApiKey(secret)?.prefix ?? `ow${createHash('sha256').update(secret).digest('hex').slice(0, 6)}`;
  return { prefix, hash: hashApiKey(secret) };
}

/**
 * Open WebUI integration:
 * - at start, the `service` user `openwebui` holds one API key whose secret is exactly
 *   OPENWEBUI_API_KEY (created, or rewritten when the variable changed);
 * - a request made with a `service` key reads as the Open WebUI user named in the signed
 *   `X-OpenWebUI-User-Jwt` header (HS256, OPENWEBUI_USER_JWT_SECRET), matched by email; without
 *   a valid header or a known, active user it reads `org` documents (or none, by
 *   OPENWEBUI_UNKNOWN_USER). Unsigned `X-OpenWebUI-User-*` headers count only when
 *   OPENWEBUI_TRUST_PLAIN_HEADERS is on.
 */
export default fp(
  async (fastify) => {
    const config = fastify.config;
    const repo = fastify.repos.openWebUi;
    const log = fastify.log.child({ component: 'openwebui' });

    async function ensureServiceKey(secret: string): Promise<void> {
      let user = await repo.findUserByUsername(OPENWEBUI_USERNAME);
      if (user && !(user.roles.length === 1 && user.roles[0] === 'service')) {
        log.error(
          { username: OPENWEBUI_USERNAME, roles: user.roles },
          'a non-service user is called "openwebui"; OPENWEBUI_API_KEY is not installed (rename that user)',
        );
        return;
      }
      // Nobody signs in as this user: its password is random and never shown.
      user ??= await repo.createServiceUser(
        OPENWEBUI_USERNAME,
        await hashPassword(randomBytes(32).toString('base64url')),
      );
      const { prefix, hash } = serviceKeyRow(secret);
      const outcome = await repo.upsertNamedKey(user.id, OPENWEBUI_KEY_NAME, prefix, hash);
      log.info({ outcome, prefix }, 'Open WebUI service key ready');
    }

    if (config.OPENWEBUI_API_KEY) {
      const secret = config.OPENWEBUI_API_KEY;
      fastify.addHook('onReady', async () => {
        await ensureServiceKey(secret).catch((err: unknown) => {
          log.error(
            { err },
            'could not install the Open WebUI service key; Open WebUI cannot connect until restart',
          );
        });
      });
    }

    const unknown = (reason: string): RetrievalIdentity => {
      const deny = config.OPENWEBUI_UNKNOWN_USER === 'deny';
      return {
        principal: { id: NOBODY, roles: [], groups: [] },
        principals: deny ? [] : ['org'],
        label: `openwebui:unknown (${reason})`,
      };
    };

    const forUser = (auth: Pick<AuthUser, 'id' | 'roles' | 'groups'>, label: string): RetrievalIdentity => ({
      principal: { id: auth.id, roles: auth.roles, groups: auth.groups },
      principals: principalsOf(auth),
      label,
    });

    async function fromEmail(email: string, how: string): Promise<RetrievalIdentity> {
      const user = await repo.findUserByEmail(email);
      if (!user) return unknown(`no user with the ${how} email`);
      if (user.disabled) return unknown('user disabled');
      // A service account is not a person: it never reads through another service's header.
      if (user.roles.includes('service') && !user.roles.includes('user') && !user.roles.includes('admin'))
        return unknown('email belongs to a service account');
      return forUser(user, `openwebui:${user.username}`);
    }

    fastify.decorate('retrievalIdentity', async function retrievalIdentity(request: FastifyRequest) {
      const auth = request.auth;
      if (!auth) throw new Error('retrievalIdentity needs authenticate first');
      if (!auth.roles.includes('service')) return forUser(auth, `user:${auth.username}`);

      const header = request.headers[USER_JWT_HEADER];
      const token = Array.isArray(header) ? header[0] : header;
      if (token && config.OPENWEBUI_USER_JWT_SECRET) {
        const result = verifyHs256(token, config.OPENWEBUI_USER_JWT_SECRET, { issuer: 'open-webui' });
        if (!result.ok) {
          request.log.warn(
            { reason: result.reason },
            'X-OpenWebUI-User-Jwt refused; reading org documents only',
          );
          return unknown(`user header ${result.reason}`);
        }
        const email = result.claims.email;
        if (typeof email !== 'string' || !email) return unknown('no email claim');
        return fromEmail(email, 'signed');
      }
      if (token) request.log.warn('X-OpenWebUI-User-Jwt sent but OPENWEBUI_USER_JWT_SECRET is not set');
      if (config.OPENWEBUI_TRUST_PLAIN_HEADERS) {
        const plain = request.headers[PLAIN_EMAIL_HEADER];
        const email = Array.isArray(plain) ? plain[0] : plain;
        if (email) return fromEmail(email, 'plain-header');
      }
      return unknown('no signed user header');
    });
  },
  { name: 'openwebui', dependencies: ['config', 'repositories', 'rag', 'auth'] },
);
