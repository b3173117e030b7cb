import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readIngestorHealth } from '@rattgllm/core';
import { ingestEnv, waitFor, type IngestEnv } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** The container healthcheck script, as Docker runs it (its exit code is the verdict). */
async function healthcheck(port: number): Promise<number> {
  return run(process.execPath, [join(ROOT, 'deploy/ingestor-healthcheck.mjs')], {
    cwd: ROOT,
    // Only what loadConfig needs: the script asks the process, not Postgres.
    env: { PATH: process.env.PATH ?? '', JWT_SECRET: 'x'.repeat(32), INGESTOR_HEALTH_PORT: String(port) },
    timeout: 15_000,
  }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? 1,
  );
}

describe('ingestor liveness', () => {
  let env: IngestEnv;
  beforeAll(async () => {
    env = await ingestEnv();
  });

  it('GET /health and the heartbeat row report it; the container healthcheck uses it; a stop removes it', async () => {
    expect(await readIngestorHealth(env.db)).toMatchObject({
      status: 'down',
      reason: 'no ingestor is running',
    });
    const ingestor = await env.start({ heartbeatMs: 200 });
    const { port, instanceId } = ingestor.health;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({
        instanceId,
        status: 'ok',
        checks: { postgres: { status: 'ok' }, worker: { status: 'ok' }, drop: { status: 'ok' } },
        drop: { held: 0, paused: false },
      });
      expect(JSON.stringify(body)).not.toMatch(/postgres:\/\/|127\.0\.0\.1|password/i);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

      const seen = await readIngestorHealth(env.db);
      expect(seen.status).toBe('ok');
      expect(seen.instances.map((i) => i.instanceId)).toEqual([instanceId]);
      const firstBeat = seen.instances[0]!.beatAt.getTime();
      await waitFor('a later beat', async () => {
        const h = await readIngestorHealth(env.db);
        return h.instances[0] && h.instances[0].beatAt.getTime() > firstBeat;
      });

      expect(await healthcheck(port)).toBe(0);

      // A stopped worker is not alive, whatever else answers.
      await ingestor.worker.stop();
      const down = await fetch(`http://127.0.0.1:${port}/health`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'down', reason: 'worker: worker is stopped' });
      expect(await healthcheck(port)).toBe(1);
    } finally {
      await ingestor.stop();
    }
    expect(await readIngestorHealth(env.db)).toMatchObject({ status: 'down', instances: [] });
    expect(await healthcheck(port)).toBe(1); // nobody answers on that port any more
  });

  it('an ingestor that stopped beating (killed) reads as down, with its age', async () => {
    await env.db('ingestor_heartbeats').insert({
      instance_id: 'gone:1',
      hostname: 'gone',
      pid: 1,
      status: 'ok',
      beat_at: env.db.raw(`now() - interval '5 minutes'`),
      detail: JSON.stringify({ status: 'ok', reason: 'ok', checks: {} }),
    });
    const h = await readIngestorHealth(env.db);
    expect(h.status).toBe('down');
    expect(h.reason).toMatch(/^no ingestor heartbeat for 30\d s$/);
    expect(h.instances[0]).toMatchObject({ instanceId: 'gone:1', status: 'down' });
    await env.db('ingestor_heartbeats').delete();
  });
});
