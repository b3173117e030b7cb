import { beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../../test/support/gateway.js';
import { startRag, type RagEnv } from './rag-support.js';
import { LIVE_OLLAMA, LIVE_QDRANT } from '../../test/standins/index.js';

const ask = (env: RagEnv, model: string, headers: Record<string, string> = {}) =>
  env.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { ...bearer(env.adminToken), ...headers },
    payload: { model, messages: [{ role: 'user', content: 'travel expenses' }] },
  });

describe('/v1 with EXPOSE_OLLAMA_MODELS=true', () => {
  let env: RagEnv;
  beforeAll(async () => {
    env = await startRag({ EXPOSE_OLLAMA_MODELS: 'true' });
  });

  it('lists the upstream models after the pipelines', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/v1/models', headers: bearer(env.adminToken) });
    const ids = res.json().data.map((m: { id: string }) => m.id);
    expect(ids[0]).toBe('rattgllm');
    expect(ids).toEqual(expect.arrayContaining(['llama3.1:8b', 'nomic-embed-text:latest']));
  });

  // Injects faults into, or reads what was recorded by, the stand-in: skipped against a real Ollama (OLLAMA_URL).
  it.skipIf(LIVE_OLLAMA)('passes an upstream model through without retrieval', async () => {
    const embeds = env.ollama.standin!.counters.embedCalls;
    const res = await ask(env, 'llama3.1:8b');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().sources).toEqual([]);
    expect(env.ollama.standin!.counters.embedCalls).toBe(embeds);
    expect(env.ollama.standin!.chatRequests.at(-1)).toMatchObject({
      model: 'llama3.1:8b',
      messages: [{ role: 'user', content: 'travel expenses' }],
    });
  });

  it('a model the upstream does not have → 404 with a pull hint', async () => {
    const res = await ask(env, 'mistral:7b');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' });
    expect(res.json().error.message).toContain('ollama pull mistral:7b');
  });

  // Injects faults into, or reads what was recorded by, the stand-in: skipped against a real Ollama (OLLAMA_URL).
  it.skipIf(LIVE_OLLAMA)('upstream listing down: pipelines are still listed', async () => {
    await env.ollama.standin!.setDown(true);
    try {
      const res = await env.app.inject({ method: 'GET', url: '/v1/models', headers: bearer(env.adminToken) });
      expect(res.statusCode).toBe(200);
      expect(res.json().data.map((m: { id: string }) => m.id)).toEqual(['rattgllm']);
    } finally {
      await env.ollama.standin!.setDown(false);
    }
  });
});

describe('/v1 with RAG_ON_RETRIEVAL_ERROR=fail and a 1 s upstream timeout (LLM_TIMEOUT)', () => {
  let env: RagEnv;
  beforeAll(async () => {
    env = await startRag({ RAG_ON_RETRIEVAL_ERROR: 'fail', LLM_TIMEOUT: '1' });
  });

  // Injects faults into, or reads what was recorded by, the stand-in: skipped against a real Ollama (OLLAMA_URL) or a real Qdrant (QDRANT_URL).
  it.skipIf(LIVE_OLLAMA || LIVE_QDRANT)(
    'vector search down → 503 in the OpenAI shape, nothing sent upstream',
    async () => {
      const before = env.ollama.standin!.chatRequests.length;
      await env.qdrant.standin!.setDown(true);
      try {
        const res = await ask(env, 'rattgllm');
        expect(res.statusCode).toBe(503);
        expect(res.json().error).toMatchObject({ code: 'retrieval_unavailable', type: 'api_error' });
        expect(env.ollama.standin!.chatRequests.length).toBe(before);
      } finally {
        await env.qdrant.standin!.setDown(false);
      }
    },
  );

  // Injects faults into, or reads what was recorded by, the stand-in: skipped against a real Ollama (OLLAMA_URL).
  it.skipIf(LIVE_OLLAMA)('upstream slower than the timeout → 504', async () => {
    env.ollama.standin!.faults.slowMs = 1500;
    try {
      const res = await ask(env, 'rattgllm', { 'x-openwebui-task': 'title_generation' });
      expect(res.statusCode, res.body).toBe(504);
      expect(res.json().error).toMatchObject({ code: 'upstream_timeout', type: 'api_error' });
    } finally {
      env.ollama.standin!.faults.slowMs = 0;
    }
  });
});

describe('/v1 with a 1 s embedder timeout (EMBED_TIMEOUT) and the default LLM_TIMEOUT', () => {
  let env: RagEnv;
  beforeAll(async () => {
    env = await startRag({ EMBED_TIMEOUT: '1' });
  });

  // Injects faults into, or reads what was recorded by, the stand-in: skipped against a real Ollama (OLLAMA_URL).
  it.skipIf(LIVE_OLLAMA)(
    'an answer slower than EMBED_TIMEOUT still arrives: chat has its own limit',
    async () => {
      env.ollama.standin!.faults.slowMs = 1500;
      try {
        const res = await ask(env, 'rattgllm', { 'x-openwebui-task': 'title_generation' });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().choices[0].message.content).toBeTruthy();
      } finally {
        env.ollama.standin!.faults.slowMs = 0;
      }
    },
  );
});
