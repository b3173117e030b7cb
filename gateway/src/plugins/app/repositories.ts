import fp from 'fastify-plugin';
import { usersRepository, type UsersRepository } from './repositories/users.js';
import { apiKeysRepository, type ApiKeysRepository } from './repositories/apiKeys.js';
import { auditRepository, type AuditRepository } from './repositories/audit.js';
import { documentsRepository } from './repositories/documents.js';
import { rateLimitsRepository, type RateLimitsRepository } from './repositories/rateLimits.js';
import { chatSessionsRepository, type ChatSessionsRepository } from './repositories/chatSessions.js';
import { openWebUiRepository, type OpenWebUiRepository } from './repositories/openwebui.js';
import {
  cachedApiKeysRepository,
  cachedDocumentsRepository,
  cachedOpenWebUiRepository,
  cachedUsersRepository,
  type CachedDocumentsRepository,
} from '../../lib/cache/cached-repositories.js';

export interface Repositories {
  users: UsersRepository;
  apiKeys: ApiKeysRepository;
  audit: AuditRepository;
  documents: CachedDocumentsRepository;
  rateLimits: RateLimitsRepository;
  chatSessions: ChatSessionsRepository;
  openWebUi: OpenWebUiRepository;
}

declare module 'fastify' {
  interface FastifyInstance {
    repos: Repositories;
  }
}

/** The only place that builds SQL: one repository per table (and one for the Open WebUI integration). */
export default fp(
  async (fastify) => {
    fastify.decorate('repos', {
      // The hot-path reads (auth, identity, the access re-check) come from the caches (lib/cache).
      users: cachedUsersRepository(usersRepository(fastify.db), fastify.caches),
      apiKeys: cachedApiKeysRepository(apiKeysRepository(fastify.db), fastify.caches, (err) =>
        fastify.log.warn({ err }, 'could not record when an API key was last used'),
      ),
      audit: auditRepository(fastify.db),
      documents: cachedDocumentsRepository(documentsRepository(fastify.db), fastify.db, fastify.caches),
      rateLimits: rateLimitsRepository(fastify.db),
      chatSessions: chatSessionsRepository(fastify.db),
      openWebUi: cachedOpenWebUiRepository(openWebUiRepository(fastify.db), fastify.caches),
    });
  },
  { name: 'repositories', dependencies: ['db', 'caches'] },
);
