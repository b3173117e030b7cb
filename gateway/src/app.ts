import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@rattgllm/core';
import { ErrorBody } from './schemas/common.js';
import { OpenAiErrorBody } from './schemas/openai.js';
import configPlugin from './plugins/app/config.js';
import errorHandler from './plugins/app/error-handler.js';
import bodyLimits from './plugins/app/body-limits.js';
import dbPlugin from './plugins/app/db.js';
import repositories from './plugins/app/repositories.js';
import cachesPlugin from './plugins/app/caches.js';
import authPlugin from './plugins/app/auth.js';
import signInPlugin from './plugins/app/sign-in.js';
import jwtPlugin from './plugins/external/jwt.js';
import rateLimitPlugin from './plugins/external/rate-limit.js';
import swaggerPlugin from './plugins/external/swagger.js';
import storagePlugin from './plugins/app/storage.js';
import queuePlugin from './plugins/app/queue.js';
import eventsPlugin from './plugins/app/events.js';
import uploadRoutes from './routes/documents/upload.js';
import documentRoutes from './routes/documents/index.js';
import documentEventRoutes from './routes/documents/events.js';
import ingestRoutes from './routes/ingest/index.js';
import scopesPlugin from './plugins/app/scopes.js';
import healthRoutes from './routes/health.js';
import configRoutes from './routes/config/index.js';
import documentLinkRoutes from './routes/documents/link.js';
import documentQueueRoutes from './routes/documents/queue.js';
import authRoutes from './routes/auth/index.js';
import userRoutes from './routes/users/index.js';
import apiKeyRoutes from './routes/api-keys/index.js';
import ragPlugin from './plugins/app/rag.js';
import pipelinesPlugin from './plugins/app/pipelines.js';
import openwebuiPlugin from './plugins/app/openwebui.js';
import readinessPlugin from './plugins/app/readiness.js';
import searchRoutes from './routes/search/index.js';
import v1Routes from './routes/v1/index.js';
import indexGenerationRoutes from './routes/admin/index-generations.js';
import chatSsoRoutes from './routes/chat-sso/index.js';
import widgetRoutes from './routes/widget/index.js';

export interface AppOptions {
  config: Config;
}

/**
 * The whole gateway as one plugin: external plugins, then ours, then routes. An explicit list,
 * not @fastify/autoload: the order is the dependency order (config before everything, the error
 * handler before the routes, /v1 under its prefix), route folders hold helpers that are not
 * plugins, and a reader sees the whole app here. test/app-plugins.test.ts keeps the list and
 * the folders in step (every plugin and route file is registered, every plugin is named).
 */
async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  fastify.addSchema(ErrorBody);
  fastify.addSchema(OpenAiErrorBody);
  await fastify.register(configPlugin, { config: opts.config });
  await fastify.register(errorHandler);
  await fastify.register(bodyLimits);
  await fastify.register(swaggerPlugin);
  await fastify.register(jwtPlugin);
  await fastify.register(dbPlugin);
  await fastify.register(cachesPlugin);
  await fastify.register(repositories);
  await fastify.register(rateLimitPlugin);
  await fastify.register(signInPlugin);
  await fastify.register(authPlugin);
  await fastify.register(scopesPlugin);
  await fastify.register(storagePlugin);
  await fastify.register(queuePlugin);
  await fastify.register(eventsPlugin);
  await fastify.register(ragPlugin);
  await fastify.register(pipelinesPlugin);
  await fastify.register(openwebuiPlugin);
  await fastify.register(readinessPlugin);

  await fastify.register(healthRoutes);
  await fastify.register(configRoutes);
  await fastify.register(authRoutes);
  await fastify.register(userRoutes);
  await fastify.register(apiKeyRoutes);
  await fastify.register(uploadRoutes);
  await fastify.register(documentRoutes);
  await fastify.register(documentEventRoutes);
  await fastify.register(documentLinkRoutes);
  await fastify.register(documentQueueRoutes);
  await fastify.register(ingestRoutes);
  await fastify.register(searchRoutes);
  await fastify.register(indexGenerationRoutes);
  await fastify.register(v1Routes, { prefix: '/v1' });
  await fastify.register(chatSsoRoutes);
  await fastify.register(widgetRoutes);
}

// Not encapsulated, so the instance `buildApp` returns exposes `db`, `repos` and `config` to tests.
export default fp(app, { name: 'rattgllm-gateway' });
