import fp from 'fastify-plugin';
import type {
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  onRequestHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
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
    /** onRequest hook: requires a valid JWT or API key of an active user. */
    authenticate: onRequestHookHandler;
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

type Maybe<T> = T | Promise<T>;

/** `f(value)`, now when `value` is there, else once it is (a throw in `f` then rejects). */
function then<T, R>(value: Maybe<T>, f: (v: T) => Maybe<R>): Maybe<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** A cache's answer now (`{ value }`), or the look-up's promise. */
function now<T>(cached: { value: T } | undefined, load: () => Promise<T>): Maybe<T> {
  // Promise.resolve: without a cache the look-up is a knex builder, a thenable but no Promise.
  return cached ? cached.value : Promise.resolve(load());
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

    // A cached caller is answered in this tick: no promise, no await (each a tick before the
    // first token, issue #12); a cache miss goes through the same steps once the row is there.
    const users = () => fastify.repos.users;
    const keys = () => fastify.repos.apiKeys;
    const findUser = (id: string) => now(users().findByIdNow(id), () => users().findById(id));

    function fromApiKey(token: string): Maybe<AuthUser> {
      const parsed = parseApiKey(token);
      const row = parsed
        ? now(keys().findByPrefixNow(parsed.prefix), () => keys().findByPrefix(parsed.prefix))
        : undefined;
      return then(row, (r) => {
        if (!r || !apiKeyMatches(token, r.hash))
          throw new UnauthorizedError('Invalid API key', 'INVALID_API_KEY');
        return keyUser(r);
      });
    }

    /**
     * A key whose secret came from the environment (OPENWEBUI_API_KEY) need not look like
     * `rk_…`: such a token is found by its SHA-256, the way it is stored.
     */
    function fromFreeFormKey(token: string): Maybe<AuthUser> {
      const hash = hashApiKey(token);
      return then(
        now(keys().findByHashNow(hash), () => keys().findByHash(hash)),
        (row) => {
          if (!row) throw new UnauthorizedError('Invalid token', 'INVALID_TOKEN');
          return keyUser(row);
        },
      );
    }

    function keyUser(row: ApiKeyRow): Maybe<AuthUser> {
      if (row.revoked_at) throw new UnauthorizedError('This API key has been revoked', 'API_KEY_REVOKED');
      if (row.expires_at && row.expires_at.getTime() <= Date.now())
        throw new UnauthorizedError('This API key has expired', 'API_KEY_EXPIRED');
      return then(findUser(row.user_id), (found) => {
        const user = activeUser(found);
        // Not awaited: bookkeeping, written beside the request (errors are logged by the repository).
        void keys().touch(row);
        // A key never has more than its owner has now: demoting a user demotes their keys.
        const roles = user.roles.includes('admin')
          ? row.roles
          : row.roles.filter((r) => user.roles.includes(r));
        return {
          ...toAuthUser(user, roles, 'api_key', row.id),
          ...(row.scopes ? { scopes: row.scopes } : {}),
        };
      });
    }

    const verified = new VerifiedTokens<FastifyJWT['user']>();

    function fromJwt(token: string): Maybe<AuthUser> {
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
      return then(findUser(claims.sub), (found) => {
        const user = activeUser(found);
        // Roles come from the database, not the token, so a demotion takes effect at once.
        return toAuthUser(user, user.roles, 'jwt');
      });
    }

    /** Throws (or rejects) with the reason when the caller is not let in. */
    function authenticateHeader(request: FastifyRequest): Maybe<AuthUser> {
      const token = bearerToken(request);
      if (looksLikeApiKey(token)) return fromApiKey(token);
      return JWT_SHAPE.test(token) ? fromJwt(token) : fromFreeFormKey(token);
    }

    function admit(request: FastifyRequest, auth: AuthUser, started: number, done: HookHandlerDoneFunction) {
      request.authMs = performance.now() - started;
      // A service account (Open WebUI's key) speaks the OpenAI API for others and nothing else:
      // it cannot upload, search as itself, list documents or manage keys.
      if (isServiceOnly(auth) && !request.routeOptions.url?.startsWith('/v1/'))
        return done(new ForbiddenError('A service key may only call /v1', 'SERVICE_KEY_V1_ONLY'));
      request.auth = auth;
      done();
    }

    fastify.decorate(
      'authenticate',
      // A callback hook, not an async one: a cached caller goes on in the same tick.
      function authenticate(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
        const started = performance.now();
        let auth: Maybe<AuthUser>;
        try {
          auth = authenticateHeader(request);
        } catch (err) {
          return done(err as Error);
        }
        if (auth instanceof Promise) auth.then((a) => admit(request, a, started, done), done);
        else admit(request, auth, started, done);
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
