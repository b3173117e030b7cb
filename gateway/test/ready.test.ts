/**
 * `/ready` reports each dependency honestly (issue #11: it answered 200 while Qdrant or Ollama
 * was down) and is 503 only when the gateway cannot serve its core. Fault injection: skipped
 * against real services.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { writeIngestorHeartbeat } from '@rattgllm/core';
import { LIVE_OLLAMA, LIVE_QDRANT } from '../../test/standins/index.js';
import { startRag, type RagEnv } from './rag-support.js';

describe.skipIf(LIVE_QDRANT || LIVE_OLLAMA)(
  'GET /ready with its dependencies (stand-ins: fault injection)',
  () => {
    let env: RagEnv;
    const ready = async () => {
      const res = await env.app.inject('/ready');
      expect(res.body).not.toMatch(/https?:\/\/|127\.0\.0\.1|localhost/);
      return { status: res.statusCode, body: res.json() };
    };
    beforeAll(async () => {
      env = await startRag();
    });

    it('Ollama down: embedder and chat down, still 200 (degraded): search-less chat keeps working', async () => {
      await env.ollama.standin!.setDown(true);
      try {
        const { status, body } = await ready();
        expect(status).toBe(200);
        expect(body.status).toBe('degraded');
        expect(body.checks).toMatchObject({
          postgres: { status: 'ok' },
          qdrant: { status: 'ok' },
          embedder: { status: 'down', reason: 'Ollama refused the connection' },
          chat: { status: 'down' },
        });
        expect(body.checks.chat.reason).toMatch(/LLM server could not be reached/);
      } finally {
        await env.ollama.standin!.setDown(false);
      }
    });

    it('no ingestor beating: ingestor down, 200 degraded (documents wait, the rest works)', async () => {
      const { status, body } = await ready();
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      expect(body.checks.ingestor).toEqual({ status: 'down', reason: 'no ingestor is running' });
    });

    it('all dependencies up, an ingestor beating: 200 ok', async () => {
      await writeIngestorHeartbeat(env.app.db, {
        instanceId: `test:${randomUUID()}`,
        hostname: 'test',
        pid: 1,
        startedAt: new Date(),
        report: { status: 'ok', reason: 'all good', checks: {} },
      });
      const { status, body } = await ready();
      expect(status).toBe(200);
      expect(body).toEqual({
        status: 'ok',
        checks: {
          postgres: { status: 'ok' },
          qdrant: { status: 'ok' },
          embedder: { status: 'ok' },
          chat: { status: 'ok' },
          ingestor: { status: 'ok' },
        },
      });
    });

    it('Qdrant down: qdrant down with a reason, 200 degraded', async () => {
      await env.qdrant.standin!.setDown(true);
      try {
        const { status, body } = await ready();
        expect(status).toBe(200);
        expect(body.status).toBe('degraded');
        expect(body.checks.qdrant).toEqual({ status: 'down', reason: 'Qdrant refused the connection' });
      } finally {
        await env.qdrant.standin!.setDown(false);
      }
      expect((await ready()).body.status).toBe('ok');
    });

    it('the collection deleted: the check finds it missing and it is re-created (qdrant ok)', async () => {
      const collectionUrl = `${env.qdrant.url}/collections/${env.app.config.QDRANT_COLLECTION}`;
      await fetch(collectionUrl, { method: 'DELETE' });
      const exists = async () =>
        ((await (await fetch(`${collectionUrl}/exists`)).json()) as { result: { exists: boolean } }).result
          .exists;
      expect(await exists()).toBe(false);
      const { status, body } = await ready();
      expect(status).toBe(200);
      expect(body.checks.qdrant).toEqual({ status: 'ok' });
      expect(await exists()).toBe(true);
    });

    it('a chat model that is not pulled: chat degraded, naming it', async () => {
      env.ollama.standin!.removeModel('llama3.1:8b');
      try {
        const { body } = await ready();
        expect(body.checks.chat).toEqual({
          status: 'degraded',
          reason: 'chat model not available upstream: llama3.1:8b',
        });
      } finally {
        env.ollama.standin!.addModel('llama3.1:8b');
      }
    });

    it('Postgres down: 503, the only dependency that makes the gateway unavailable', async () => {
      // Postgres cannot be stopped for one test database; a pool pointed nowhere stands for it.
      const { buildApp } = await import('../src/build.js');
      const { testConfig } = await import('../../test/support/config.js');
      const down = await buildApp(
        testConfig({
          DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none',
          QDRANT_URL: env.qdrant.url,
          OLLAMA_URL: env.ollama.url,
          QDRANT_COLLECTION: env.app.config.QDRANT_COLLECTION,
          EMBED_DIM: String(env.app.config.EMBED_DIM),
        }),
      );
      try {
        const res = await down.inject('/ready');
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({
          status: 'unavailable',
          checks: { postgres: { status: 'down' }, qdrant: { status: 'ok' } },
        });
      } finally {
        await down.close();
      }
    });
  },
);
