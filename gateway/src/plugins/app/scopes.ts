import fp from 'fastify-plugin';
import { ForbiddenError } from '@rattgllm/core';

import { ScopeName, type Scope } from '../../schemas/common.js';

export type { Scope } from '../../schemas/common.js';
/** What an API key may be narrowed to: the values of the `ScopeName` schema. */
export const SCOPES: readonly Scope[] = ScopeName.anyOf.map((s) => s.const);

/**
 * The scope each authenticated route needs from a narrowed API key. `any`: every key (who am I,
 * its own key list); `unscoped`: only a session or a key that is not narrowed (changing the
 * password). A route missing here is refused to narrowed keys, so a new route is closed to them
 * until someone decides which scope covers it.
 */
const ROUTE_SCOPES: Record<string, readonly Scope[] | 'any' | 'unscoped'> = {
  'GET /auth/me': 'any',
  'POST /auth/password': 'unscoped',
  'GET /api-keys': 'any',
  // Creating checks in the route that the new key is no wider than the one creating it.
  'POST /api-keys': 'any',
  'DELETE /api-keys/:id': 'any',
  'GET /documents': ['read'],
  'GET /documents/:id': ['read'],
  'GET /documents/:id/content': ['read'],
  'POST /documents/:id/link': ['read'],
  'POST /documents/events/token': ['read'],
  'GET /documents/events': ['read'],
  'GET /documents/queue': ['read'],
  'POST /search': ['read'],
  'POST /upload': ['upload'],
  'PATCH /documents/:id': ['upload'],
  'DELETE /documents/:id': ['upload'],
  'POST /documents/:id/cancel': ['upload'],
  'POST /ingest/reindex': ['upload'],
  'GET /v1/models': ['chat', 'read'],
  'POST /v1/chat/completions': ['chat'],
  'POST /chat-sso/ticket': ['chat'],
  'POST /v1/embeddings': ['chat'],
  'GET /users': ['admin'],
  'POST /users': ['admin'],
  'PATCH /users/:id': ['admin'],
  'DELETE /users/:id': ['admin'],
};

/** Enforces API-key scopes on every route, after `authenticate` established who is calling. */
export default fp(
  async (fastify) => {
    // A callback hook, not an async one: no promise and no extra tick on every request (issue #12).
    fastify.addHook('preHandler', (request, _reply, done) => {
      const scopes = request.auth?.scopes;
      if (!scopes) return done(); // a session, or a key that is not narrowed
      // HEAD is GET without a body (Fastify adds it to every GET route).
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      const route = `${method} ${request.routeOptions.url ?? ''}`;
      const needed = ROUTE_SCOPES[route];
      if (needed === 'any') return done();
      if (needed !== 'unscoped' && needed?.some((s) => scopes.includes(s))) return done();
      done(
        new ForbiddenError(
          needed === 'unscoped'
            ? 'This API key is limited to ' +
                `${scopes.join(', ')}; sign in (or use a key without a scope) for ${request.method} ${request.routeOptions.url}`
            : `This API key is limited to ${scopes.join(', ')}; ${request.method} ${request.routeOptions.url ?? request.url} ` +
                `needs ${needed ? `the ${needed.join(' or ')} scope` : 'a key without a scope'}`,
          'SCOPE_NOT_ALLOWED',
        ),
      );
    });
  },
  { name: 'scopes', dependencies: ['auth'] },
);
