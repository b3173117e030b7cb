/**
 * The ingestor's own liveness, two ways (each answers a different reader):
 * - GET /health on 127.0.0.1:INGESTOR_HEALTH_PORT, for the container healthcheck, which runs
 *   inside this container and must ask *this* process (a frozen event loop does not answer; a
 *   row in Postgres cannot tell which replica is frozen, and cannot be read while Postgres is down).
 * - a heartbeat row in Postgres every INGESTOR_HEARTBEAT_SECONDS (core/src/ingestorHealth.ts), for
 *   the gateway's /ready: it sees every replica of `--scale ingestor=N` without knowing addresses.
 * The endpoint answers 200 while the process works or waits for a dependency to come back
 * (`degraded`: restarting would not help), 503 when it cannot work (worker or watcher stopped).
 */
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import {
  INGESTOR_HEARTBEAT_SECONDS,
  pruneIngestorHeartbeats,
  removeIngestorHeartbeat,
  writeIngestorHeartbeat,
  type HealthCheck,
  type IngestorReport,
} from '@rattgllm/core';
import type { IngestorDeps } from './deps.js';
import { ping } from './store.js';
import type { IngestWorker } from './worker.js';
import type { DropWatcher } from './drop/watcher.js';

export interface IngestorHealthService {
  /** The port /health listens on (INGESTOR_HEALTH_PORT, or the one picked for 0). */
  port: number;
  instanceId: string;
  report(): Promise<IngestorReport>;
  stop(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2000;
/** Ingestors started in this process so far (tests start several; a container starts one). */
let started = 0;

async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A reason without addresses or credentials: the code or first line of the error. */
function reasonOf(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code && /^[A-Z_]+$/.test(e.code)) return e.code;
  return (e.message ?? String(err))
    .split('\n')[0]!
    .replace(/\b[a-z]+:\/\/\S+/gi, '<address>')
    .slice(0, 200);
}

export async function startHealth(
  deps: IngestorDeps,
  parts: { worker: IngestWorker; watcher: DropWatcher | null },
  options: { heartbeatMs?: number } = {},
): Promise<IngestorHealthService> {
  const { db, log, config } = deps;
  // hostname:pid is stable across restarts of a container (its hostname, pid 1).
  const instanceId = `${hostname()}:${process.pid}${started++ ? `#${started}` : ''}`;
  const startedAt = new Date();
  let stopping = false;

  const report = async (): Promise<IngestorReport> => {
    const checks: Record<string, HealthCheck> = {};
    checks.postgres = await within(ping(db), PROBE_TIMEOUT_MS, 'Postgres').then(
      () => ({ status: 'ok' as const, reason: 'answers' }),
      (err: unknown) => ({ status: 'down' as const, reason: `unreachable: ${reasonOf(err)}` }),
    );
    const state = parts.worker.state;
    checks.worker =
      state === 'running'
        ? { status: 'ok', reason: 'taking jobs' }
        : { status: 'down', reason: `worker is ${state}` };
    let drop: IngestorReport['drop'];
    if (parts.watcher) {
      const s = parts.watcher.status();
      drop = {
        waiting: s.waiting,
        running: s.running,
        held: s.held,
        paused: s.paused,
        overflowed: s.overflowed,
      };
      checks.drop = !s.watching
        ? { status: 'down', reason: 'not watching the drop folder' }
        : s.paused
          ? {
              status: 'degraded',
              reason: `${s.held + s.waiting} changes kept until Postgres and storage answer`,
            }
          : s.watchError
            ? { status: 'degraded', reason: `watcher error: ${s.watchError.slice(0, 200)}` }
            : { status: 'ok', reason: `watching; ${s.waiting + s.running} changes in hand` };
    }
    if (stopping) checks.worker = { status: 'down', reason: 'stopping' };
    const all = Object.entries(checks);
    const worst = all.find(([, c]) => c.status === 'down') ?? all.find(([, c]) => c.status === 'degraded');
    // Postgres down is `degraded`, not `down`: the process waits and heals, a restart would not help.
    const status = !worst
      ? 'ok'
      : worst[1].status === 'down' && worst[0] !== 'postgres'
        ? 'down'
        : 'degraded';
    return {
      status,
      reason: worst ? `${worst[0]}: ${worst[1].reason}` : 'ok',
      checks,
      ...(drop ? { drop } : {}),
    };
  };

  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/health') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":"not found; try GET /health"}');
      return;
    }
    report().then(
      (r) =>
        res
          .writeHead(r.status === 'down' ? 503 : 200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ instanceId, ...r })),
      () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"down"}'),
    );
  });
  // Loopback only: the container healthcheck runs inside the container; nothing else needs it.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.INGESTOR_HEALTH_PORT, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  let beating: Promise<void> = Promise.resolve();
  const beat = () =>
    (beating = (async () => {
      const r = await report();
      await writeIngestorHeartbeat(db, {
        instanceId,
        hostname: hostname(),
        pid: process.pid,
        startedAt,
        report: r,
      });
      await pruneIngestorHeartbeats(db);
    })().catch((err: unknown) => log.warn({ err: reasonOf(err) }, 'ingestor heartbeat not written')));
  await beat();
  const timer = setInterval(beat, options.heartbeatMs ?? INGESTOR_HEARTBEAT_SECONDS * 1000);
  timer.unref();
  log.info({ port, instanceId }, 'ingestor health on 127.0.0.1/health');

  return {
    port,
    instanceId,
    report,
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      await beating;
      // A clean stop is not a crash: the gateway should not count this instance as lost.
      await removeIngestorHeartbeat(db, instanceId).catch((err: unknown) =>
        log.warn({ err: reasonOf(err) }, 'ingestor heartbeat not removed'),
      );
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
