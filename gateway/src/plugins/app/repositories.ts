import fp from 'fastify-plugin';
import { usersRepository, type UsersRepository } from './repositories/users.js';
import { apiKeysRepository, type ApiKeysRepository } from './repositories/apiKeys.js';
import { auditRepository, type AuditRepository } from './repositories/audit.js';
import { documentsRepository, type DocumentsRepository } from './repositories/documents.js';
import { rateLimitsRepository, type RateLimitsRepository } from './repositories/rateLimits.js';
import { chatSessionsRepository, type ChatSessionsRepository } from './repositories/chatSessions.js';
import { openWebUiRepository, type OpenWebUiRepository } from './repositories/openwebui.js';

export interface Repositories {
  users: UsersRepository;
  apiKeys: ApiKeysRepository;
  audit: AuditRepository;
  documents: DocumentsRepository;
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
      users: usersRepository(fastify.db),
      apiKeys: apiKeysRepository(fastify.db),
      audit: auditRepository(fastify.db),
      documents: documentsRepository(fastify.db),
      rateLimits: rateLimitsRepository(fastify.db),
      chatSessions: chatSessionsRepository(fastify.db),
      openWebUi: openWebUiRepository(fastify.db),
    });
  },
  { name: 'repositories', dependencies: ['db'] },
);
