import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import {
  ForbiddenError,
  UnauthorizedError,
  apiKeyMatches,
  hashApiKey,
  looksLikeApiKey,
  parseApiKey,
  type Principal,
} from '@rattgllm/core';
import type { FastifyJWT } from '@fastify/jwt';
import { TokenError } from 'fast-jwt';
import type { UserRow } from './repositories/users.js';
import type { ApiKeyRow } from './repositories/apiKeys.js';
import { VerifiedTokens } from '../../lib/cache/verified-tokens.js';

/** Who is calling, as established by `fastify.authenticate`. */
export interface AuthUser extends Principal {
  username: string;
  email: string | null;
  /** Effective roles: the user's, narrowed by the API key's when one is used. */
  roles: string[];
  groups: string[];
  via: 'jwt' | 'api_key';
  apiKeyId?: string;
  /** A narrowed API key's scopes (see plugins/app/scopes.ts); absent: not narrowed. */
  scopes?: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: requires a valid JWT or API key of an active user. */
    authenticate: preHandlerAsyncHookHandler;
    /** preHandler for SSE: a Bearer header, or `?token=` holding a short-lived `sse` token. */
    authenticateSse: preHandlerAsyncHookHandler;
    /** preHandler for a document's content: a Bearer header, or `?token=` from `signDocumentLink`. */
    authenticateDocumentLink: preHandlerAsyncHookHandler;
    /** A token that opens one document's content for one user (citation links), for a day. */
    signDocumentLink(userId: string, documentId: string): string;
    /** preHandler factory: requires one of the roles (after `authenticate`). */
    requireRole: (...roles: string[]) => preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    auth: AuthUser | null;
    /** How long `authenticate` took (ms; Server-Timing `auth`). */
    authMs: number;
  }
}

export const SSE_SCOPE = 'sse';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
export const SSE_TOKEN_SECONDS = 60;
/** Citation links stay valid this long; the reader's access is checked again on every click. */
export const DOCUMENT_LINK_SECONDS = 24 * 3600;
export const documentLinkScope = (documentId: string) => `doc:${documentId}`;

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header)
    throw new UnauthorizedError('Missing Authorization header: send "Bearer <token>"', 'MISSING_TOKEN');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new UnauthorizedError('Authorization header must be "Bearer <token>"', 'INVALID_TOKEN');
  return m[1]!;
}

function activeUser(row: UserRow | undefined): UserRow {
  // Deleted and disabled users are checked on every request, so their tokens stop at once.
  if (!row) throw new UnauthorizedError('This account no longer exists', 'INVALID_TOKEN');
  if (row.disabled) throw new UnauthorizedError('This account is disabled', 'ACCOUNT_DISABLED');
  return row;
}

/**
 * `Authorization: Bearer` accepts a JWT from `/auth/login` or an API key (`rk_…`) everywhere.
 */
export default fp(
  async (fastify) => {
    fastify.decorateRequest('auth', null);
    fastify.decorateRequest('authMs', 0);

    async function fromApiKey(token: string): Promise<AuthUser> {
      const parsed = parseApiKey(token);
      const row = parsed ? await fastify.repos.apiKeys.findByPrefix(parsed.prefix) : undefined;
      if (!row || !apiKeyMatches(token, row.hash))
        throw new UnauthorizedError('Invalid API key', 'INVALID_API_KEY');
      return keyUser(row);
    }

    /**
     * A key whose secret came from the environment (OPENWEBUI_API_KEY) need not look like
     * `rk_…`: such a token is found by its SHA-256, the way it is stored.
     */
    async function fromFreeFormKey(token: string): Promise<AuthUser> {
      const row = await fastify.repos.apiKeys.findByHash(hashApiKey(token));
      if (!row) throw new UnauthorizedError('Invalid token', 'INVALID_TOKEN');
      return keyUser(row);
    }

    async function keyUser(row: ApiKeyRow): Promise<AuthUser> {
      if (row.revoked_at) throw new UnauthorizedError('This API key has been revoked', 'API_KEY_REVOKED');
      if (row.expires_at && row.expires_at.getTime() <= Date.now())
        throw new UnauthorizedError('This API key has expired', 'API_KEY_EXPIRED');
      const user = activeUser(await fastify.repos.users.findById(row.user_id));
      // Not awaited: bookkeeping, written beside the request (errors are logged by the repository).
      void fastify.repos.apiKeys.touch(row);
      // A key never has more than its owner has now: demoting a user demotes their keys.
      const roles = user.roles.includes('admin')
        ? row.roles
        : row.roles.filter((r) => user.roles.includes(r));
      return { ...toAuthUser(user, roles, 'api_key', row.id), ...(row.scopes ? { scopes: row.scopes } : {}) };
    }

    const verified = new VerifiedTokens<FastifyJWT['user']>();

    async function fromJwt(token: string): Promise<AuthUser> {
      let claims = verified.get(token);
      if (!claims) {
        try {
          // Synchronous, with the verifier made once: request.jwtVerify() merges options and runs
          // a callback waterfall on every call, a fifth of the chat proxy's own time (issue #12).
          claims = fastify.jwt.verify<FastifyJWT['user']>(token);
        } catch (err) {
          if ((err as { code?: string }).code === TokenError.codes.expired)
            throw new UnauthorizedError('Your session has expired; sign in again', 'TOKEN_EXPIRED');
          throw new UnauthorizedError('Invalid token', 'INVALID_TOKEN');
        }
        verified.set(token, claims);
      }
      // A narrow token (in a URL, short-lived) is not a session: it opens only what it was made for.
      if (claims.scope) throw new UnauthorizedError('This token cannot be used here', 'INVALID_TOKEN');
      const user = activeUser(await fastify.repos.users.findById(claims.sub));
      // Roles come from the database, not the token, so a demotion takes effect at once.
      return toAuthUser(user, user.roles, 'jwt');
    }

    async function authenticateHeader(request: FastifyRequest): Promise<AuthUser> {
      const token = bearerToken(request);
      if (looksLikeApiKey(token)) return fromApiKey(token);
      return JWT_SHAPE.test(token) ? fromJwt(token) : fromFreeFormKey(token);
    }

    fastify.decorate(
      'authenticate',
      async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
        const started = performance.now();
        const auth = await authenticateHeader(request);
        request.authMs = performance.now() - started;
        // A service account (Open WebUI's key) speaks the OpenAI API for others and nothing else:
        // it cannot upload, search as itself, list documents or manage keys.
        if (isServiceOnly(auth) && !request.routeOptions.url?.startsWith('/v1/'))
          throw new ForbiddenError('A service key may only call /v1', 'SERVICE_KEY_V1_ONLY');
        request.auth = auth;
      },
    );

    /**
     * A Bearer header, or `?token=` holding a short-lived token made for exactly `scope` — for
     * URLs a browser opens without our headers (EventSource, a citation link in Open WebUI).
     */
    function authenticateWithUrlToken(scopeOf: (request: FastifyRequest) => string) {
      return async function authenticateUrlToken(request: FastifyRequest) {
        const token = (request.query as { token?: unknown } | undefined)?.token;
        if (typeof token !== 'string' || !token) {
          request.auth = await authenticateHeader(request);
          return;
        }
        let claims: FastifyJWT['user'];
        try {
          claims = fastify.jwt.verify<FastifyJWT['user']>(token);
        } catch {
          throw new UnauthorizedError(
            'This link has expired or is invalid; open it again from its source',
            'INVALID_TOKEN',
          );
        }
        if (claims.scope !== scopeOf(request))
          throw new UnauthorizedError('This link is not for this resource', 'INVALID_TOKEN');
        // The person is checked now, not when the link was made: disabled or deleted users lose it.
        const user = activeUser(await fastify.repos.users.findById(claims.sub));
        request.auth = toAuthUser(user, user.roles, 'jwt');
      };
    }

    fastify.decorate(
      'authenticateSse',
      authenticateWithUrlToken(() => SSE_SCOPE),
    );
    fastify.decorate(
      'authenticateDocumentLink',
      authenticateWithUrlToken((request) => documentLinkScope((request.params as { id?: string }).id ?? '')),
    );
    fastify.decorate('signDocumentLink', (userId: string, documentId: string) =>
      fastify.jwt.sign(
        { sub: userId, username: '', roles: [], scope: documentLinkScope(documentId) },
        { expiresIn: DOCUMENT_LINK_SECONDS },
      ),
    );

    fastify.decorate(
      'requireRole',
      (...roles: string[]) =>
        async function requireRole(request: FastifyRequest) {
          if (!request.auth) throw new UnauthorizedError();
          if (!roles.some((r) => request.auth!.roles.includes(r)))
            throw new ForbiddenError(`This needs the ${roles.join(' or ')} role`, 'FORBIDDEN');
        },
    );
  },
  { name: 'auth', dependencies: ['jwt', 'repositories'] },
);

const isServiceOnly = (a: AuthUser) =>
  a.roles.includes('service') && !a.roles.includes('user') && !a.roles.includes('admin');

function toAuthUser(user: UserRow, roles: string[], via: AuthUser['via'], apiKeyId?: string): AuthUser {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    roles,
    groups: user.groups,
    via,
    ...(apiKeyId ? { apiKeyId } : {}),
  };
}
