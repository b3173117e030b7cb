import fp from 'fastify-plugin';
import { usersRepository, type UsersRepository } from './repositories/users.js';
import { apiKeysRepository, type ApiKeysRepository } from './repositories/apiKeys.js';
import { auditRepository, type AuditRepository } from './repositories/audit.js';
import { documentsRepository, type DocumentsRepository } from './repositories/documents.js';
import { rateLimitsRepository, type RateLimitsRepository } from './repositories/rateLimits.js';
import { chatSessionsRepository, type ChatSessionsRepository } from './repositories/chatSessions.js';
import { cachedApiKeysRepository, cachedUsersRepository } from '../../lib/cache/cached-repositories.js';

export interface Repositories {
  users: UsersRepository;
  apiKeys: ApiKeysRepository;
  audit: AuditRepository;
  documents: DocumentsRepository;
  rateLimits: RateLimitsRepository;
  chatSessions: ChatSessionsRepository;
}

declare module 'fastify' {
  interface FastifyInstance {
    repos: Repositories;
  }
}

/** The only place that builds SQL: one repository per table. */
export default fp(
  async (fastify) => {
    fastify.decorate('repos', {
      // Auth's look-ups come from the caches (see lib/cache); their writes drop the entries.
      users: cachedUsersRepository(usersRepository(fastify.db), fastify.caches),
      apiKeys: cachedApiKeysRepository(apiKeysRepository(fastify.db), fastify.caches, (err) =>
        fastify.log.warn({ err }, 'could not record when an API key was last used'),
      ),
      audit: auditRepository(fastify.db),
      documents: documentsRepository(fastify.db),
      rateLimits: rateLimitsRepository(fastify.db),
      chatSessions: chatSessionsRepository(fastify.db),
    });
  },
  { name: 'repositories', dependencies: ['db', 'caches'] },
);
