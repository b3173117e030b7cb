/**
 * Graceful shutdown (issue #11): with a live-status stream open, SIGTERM used to leave the
 * gateway running for more than 40 s. Now the stream gets a final `shutdown` event and ends, and
 * the process exits well within Compose's 10 s stop timeout.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ADMIN, login, startGateway } from '../../test/support/gateway.js';
import { createTestDatabase } from '../../test/support/db.js';
import { TEST_JWT_SECRET } from '../../test/support/config.js';
import { SHUTDOWN_EVENT } from '../src/plugins/app/events.js';
import { LIVE_OLLAMA, OllamaStandin } from '../../test/standins/index.js';

/** Opens `GET /documents/events`; resolves `connected` on the first comment, `ended` at the end. */
function openStream(base: string, token: string) {
  let raw = '';
  let onConnected: () => void;
  const connected = new Promise<void>((r) => (onConnected = r));
  const ended = new Promise<string>((resolve, reject) => {
    const req = httpRequest(
      `${base}/documents/events`,
      { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          raw += chunk;
          if (raw.includes(': connected')) onConnected();
        });
        res.on('end', () => resolve(raw));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  return { connected, ended };
}

describe('graceful shutdown', () => {
  it('app.close() ends an open live-status stream with a final event, at once', async () => {
    const app = await startGateway();
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const token = await login(app, ADMIN.username, ADMIN.password);
    const stream = openStream(base, token);
    await stream.connected;
    const t0 = performance.now();
    await app.close();
    const closeMs = performance.now() - t0;
    expect(await stream.ended).toContain(SHUTDOWN_EVENT);
    expect(closeMs).toBeLessThan(2000);
  });

  describe('the built server process', () => {
    const built = existsSync('gateway/dist/server.js');
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups) await c();
    });

    /** Starts `node gateway/dist/server.js` on a database of its own; resolves its base URL. */
    async function startServer(env: Record<string, string> = {}) {
      const database = await createTestDatabase();
      cleanups.push(database.drop);
      const child = spawn(process.execPath, ['gateway/dist/server.js'], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          HOST: '127.0.0.1',
          PORT: '0',
          DATABASE_URL: database.url,
          JWT_SECRET: TEST_JWT_SECRET,
          ADMIN_PASSWORD: ADMIN.password,
          S3_ENDPOINT: inject('s3Endpoint'),
          MINIO_ROOT_USER: inject('s3AccessKey'),
          MINIO_ROOT_PASSWORD: inject('s3SecretKey'),
          QDRANT_URL: 'http://127.0.0.1:1',
          OLLAMA_URL: 'http://127.0.0.1:1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(async () => void child.kill('SIGKILL'));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      let out = '';
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line: ${out}`)), 20_000);
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', () => reject(new Error(`server exited early: ${out}`)));
      });
      const res = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      const { access_token: token } = (await res.json()) as { access_token: string };
      /** Sends SIGTERM; resolves the exit code and the milliseconds until exit. */
      const terminate = async () => {
        const t0 = performance.now();
        child.kill('SIGTERM');
        const code = await exited;
        return { code, ms: performance.now() - t0 };
      };
      return { base, token, terminate };
    }

    it.skipIf(!built)(
      'SIGTERM with an open live-status stream: final event, exit code 0 in < 5 s (needs npm run build)',
      async () => {
        const server = await startServer();
        const stream = openStream(server.base, server.token);
        await stream.connected;
        const { code, ms } = await server.terminate();
        expect(await stream.ended).toContain(SHUTDOWN_EVENT);
        expect(code).toBe(0);
        expect(ms).toBeLessThan(5000);
        console.log(`gateway exited ${Math.round(ms)} ms after SIGTERM with a live stream open`);
      },
      30_000,
    );

    it.skipIf(!built || LIVE_OLLAMA)(
      'SIGTERM while a chat answer streams for a minute: cut at the deadline, exit in < 5 s (stand-in upstream)',
      async () => {
        const ollama = await new OllamaStandin({ dimension: 64 }).start();
        cleanups.push(() => ollama.close());
        // 60 tokens one second apart: the answer would outlive Compose's 10 s stop timeout.
        ollama.chat = { tokens: Array.from({ length: 60 }, (_, i) => ` t${i}`), intervalMs: 1000 };
        const server = await startServer({ OLLAMA_URL: ollama.url, EMBED_DIM: '64' });
        const res = await fetch(`${server.base}/v1/chat/completions`, {
          method: 'POST',
          // A task request: no retrieval, so no Qdrant is needed to reach the upstream.
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${server.token}`,
            'x-openwebui-task': 'title_generation',
          },
          body: JSON.stringify({
            model: 'rattgllm',
            stream: true,
            messages: [{ role: 'user', content: 'a title for this chat' }],
          }),
        });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        await reader.read(); // the first bytes arrived: the stream is live
        const body = (async () => {
          try {
            while (!(await reader.read()).done);
          } catch {
            /* the connection is cut at the deadline */
          }
        })();
        const { code, ms } = await server.terminate();
        await body;
        expect(code).toBe(0);
        expect(ms).toBeLessThan(5000);
        console.log(`gateway exited ${Math.round(ms)} ms after SIGTERM with a chat stream open`);
      },
      30_000,
    );
  });
});
