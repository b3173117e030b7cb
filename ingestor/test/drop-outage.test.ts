import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentRow } from '@rattgllm/core';
import { ingestEnv, LONG_TEXT, waitFor, writeDropFile, type IngestEnv } from './support.js';
import { startIngestor, type Ingestor } from '../src/main.js';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.js';

/**
 * Seen on main: files added to the drop folder while Postgres is down were lost until the next
 * reconcile (2 h). The ingestor here reaches Postgres through a TCP proxy the test cuts, so only
 * this ingestor loses its database; the test reads the rows directly.
 */
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

// A proxy needs a TCP address; a DATABASE_URL with a Unix socket (?host=/run/postgresql) has none.
const target = (url: string) => {
  const u = new URL(url);
  const socket = u.searchParams.get('host');
  return u.hostname && !socket?.startsWith('/')
    ? { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port: Number(u.port || 5432) }
    : null;
};
const unixSocket = !!process.env.DATABASE_URL && !target(process.env.DATABASE_URL);

describe('drop folder while Postgres is down', () => {
  let env: IngestEnv;
  let proxy: TcpProxy;
  let ingestor: Ingestor | undefined;

  beforeAll(async () => {
    env = await ingestEnv();
    const to = target(env.config.DATABASE_URL);
    if (to) proxy = await startTcpProxy(to);
  });
  afterAll(async () => {
    await proxy?.restore();
    await ingestor?.stop().catch(() => {});
    await proxy?.close();
  });

  it.skipIf(unixSocket)(
    'changes made during the outage (add, delete then re-add, add then delete) are all recorded after it (skipped only when DATABASE_URL is a Unix socket: no TCP to cut)',
    async () => {
      const url = new URL(env.config.DATABASE_URL);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      ingestor = await startIngestor(
        { ...env.config, DATABASE_URL: url.toString() },
        {
          renameGraceMs: 300,
          stabilityMs: 100,
          pollingIntervalSeconds: 0.5,
          retryMinMs: 200,
          retryMaxMs: 1000,
        },
      );
      const docs = () =>
        env.db<DocumentRow>('documents').where({ source: 'drop' }).whereNot({ status: 'deleted' });
      const content = new Map<string, string>();
      const put = async (rel: string, text: string) => {
        content.set(rel, text);
        await writeDropFile(env.dropDir, rel, text);
      };
      const remove = async (rel: string) => {
        content.delete(rel);
        await rm(join(env.dropDir, rel));
      };

      // Before: 5 files that will be deleted and dropped again, 3 that will only be deleted.
      const again = [1, 2, 3, 4, 5].map((i) => `shared/again-${i}.txt`);
      const gone = [1, 2, 3].map((i) => `shared/gone-${i}.txt`);
      for (const rel of [...again, ...gone]) await put(rel, LONG_TEXT(`before ${rel}`, 2));
      await waitFor('8 indexed before the outage', async () => {
        const rows = await docs().where({ status: 'indexed' });
        return rows.length === 8;
      });
      await ingestor.watcher!.idle();

      // Postgres goes away (for this ingestor).
      await proxy.cut();
      await expect(ingestor.deps.db.raw('select 1')).rejects.toThrow();
      const fresh = Array.from({ length: 15 }, (_, i) => `shared/new-${i + 1}.txt`);
      const transient = [1, 2, 3].map((i) => `shared/transient-${i}.txt`);
      for (const rel of fresh) await put(rel, LONG_TEXT(`outage ${rel}`, 2));
      // Delete then re-add: three with new content (must be re-indexed), two with the same bytes.
      for (const rel of again) await remove(rel);
      await new Promise((r) => setTimeout(r, 500)); // the unlinks pass the rename grace period
      for (const [i, rel] of again.entries())
        await put(rel, i < 3 ? LONG_TEXT(`changed ${rel}`, 2) : LONG_TEXT(`before ${rel}`, 2));
      // Add then delete: must leave nothing behind. Delete only: must be removed.
      for (const rel of transient) await put(rel, LONG_TEXT(`short-lived ${rel}`, 2));
      await new Promise((r) => setTimeout(r, 300));
      for (const rel of [...transient, ...gone]) await remove(rel);

      // Every touched path is kept, once: 5 + 3 + 15 + 3 = 26, and nothing was recorded yet.
      const kept = await waitFor('26 paths kept', async () => {
        const s = ingestor!.watcher!.status();
        return s.paused && s.held + s.waiting === 26 && s.running === 0 ? s : undefined;
      });
      expect(kept.overflowed).toBe(false);
      // Alive and waiting: /health says degraded (200, so the container is not restarted for
      // nothing), and why.
      const health = await fetch(`http://127.0.0.1:${ingestor.health.port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: 'degraded',
        checks: { postgres: { status: 'down' }, drop: { status: 'degraded' } },
        drop: { paused: true },
      });
      expect(await docs().whereIn('source_path', fresh)).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 2000)); // a few probes fail meanwhile

      // Postgres answers again.
      const back = Date.now();
      await proxy.restore();
      const expected = [...again, ...fresh];
      expect(expected).toHaveLength(20);
      await waitFor(
        'all 20 indexed with their current content',
        async () => {
          const rows = await docs().whereIn('source_path', expected);
          return (
            rows.length === 20 &&
            rows.every(
              (r) => r.status === 'indexed' && r.indexed_sha256 === sha(content.get(r.source_path!)!),
            )
          );
        },
        60_000,
      );
      const recovered = Date.now() - back;
      await waitFor(
        'the deleted files removed',
        async () => (await docs().whereIn('source_path', gone)).length === 0,
      );
      await ingestor.watcher!.idle();
      const rows = await docs();
      const lost = expected.filter((rel) => !rows.some((r) => r.source_path === rel)).length;
      console.info(
        `Postgres outage: 26 paths kept; all 20 files indexed ${recovered} ms after it answered; lost ${lost}`,
      );
      expect(lost).toBe(0);
      expect(rows.map((r) => r.source_path).sort()).toEqual([...expected].sort());
      expect(ingestor.watcher!.status()).toMatchObject({ held: 0, paused: false, gaveUp: 0 });
      expect(proxy.accepted).toBeGreaterThan(0); // the ingestor really went through the proxy
      expect((await ingestor.health.report()).status).toBe('ok');
    },
    120_000,
  );
});
