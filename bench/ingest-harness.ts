/**
 * What both ingest benchmarks share: a database of their own (real Postgres), in-process S3, the
 * Qdrant and Ollama stand-ins in a thread of their own (the embedder costs `a + b·texts` ms per
 * call on one simulated device), and the built ingestor in a process of its own, as production
 * runs it, with its peak RSS read from /proc.
 */
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import setup, { TEMPLATE_DB } from '../test/support/global-setup.js';
import { parseConfig, type Config } from '@rattgllm/core';

export const MB = 1024 * 1024;

export interface EmbedCounters {
  busyMs: number;
  embedCalls: number;
  embedInputs: number;
}

/** CPU time used so far (ms): the ingestor process, the Postgres cluster, this process (S3, stand-ins, driver). */
export interface CpuTimes {
  ingestorMs: number;
  postgresMs: number;
  benchMs: number;
}

/** utime + stime (+ the reaped children's, with `children`) of a process, in ms; 0 when it is gone. */
async function processCpuMs(pid: number, children = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14–17 (1-based), i.e. 11–14 here; clock ticks of 10 ms.
  const ticks =
    Number(f[11] ?? 0) + Number(f[12] ?? 0) + (children ? Number(f[13] ?? 0) + Number(f[14] ?? 0) : 0);
  return ticks * 10;
}

/** The Postgres cluster's CPU: the postmaster with its reaped children, plus the live ones. */
async function postgresCpuMs(postmaster: number): Promise<number> {
  let total = await processCpuMs(postmaster, true);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmaster) total += await processCpuMs(Number(entry));
  }
  return total;
}

export interface Harness {
  config: Config;
  env: Record<string, string>;
  drop: string;
  counters(): Promise<EmbedCounters>;
  /**
   * Start the built ingestor (ingestor/dist/main.js) with the image's heap cap. Should it exit
   * before close() (it could not start: a taken port, a bad setting), the benchmark stops at
   * once with its exit code instead of waiting for documents that never come.
   */
  startIngestor(): ChildProcess;
  /**
   * Resolves once `ready()` holds (polled every 100 ms); rejects with a clear error when the
   * ingestor exits first or `timeoutMs` passes.
   */
  waitForIngestor(ready: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** CPU used so far by the ingestor, Postgres and this process (diffs say what bounds a run). */
  cpu(): Promise<CpuTimes>;
  /** The ingestor's peak resident set (VmHWM), bytes. */
  peakRss(): Promise<number>;
  close(): Promise<void>;
}

/** The embedder's cost per call: `callMs + textMs × texts` on one device. */
export async function startHarness(cost: { callMs: number; textMs: number }): Promise<Harness> {
  const provided: Record<string, string> = {};
  const teardown = await setup({ provide: (k: string, v: string) => (provided[k] = v) } as never);
  const adminUrl = provided.databaseAdminUrl!;
  const dbName = `rattg_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // The backend serving `admin` is a child of the postmaster: its parent is the cluster's root.
  const backend = (await admin.query('select pg_backend_pid() as pid')).rows[0].pid as number;
  const backendStat = await readFile(`/proc/${backend}/stat`, 'utf8').catch(() => '');
  const postmaster = Number(backendStat.slice(backendStat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${TEMPLATE_DB}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;

  const standins = new Worker(new URL('./standins-worker.ts', import.meta.url), {
    workerData: {
      batchCostMs: cost.callMs,
      textCostMs: cost.textMs,
      // BENCH_STANDIN_KEEPALIVE_MS: how long the stand-ins keep idle connections (default 5 s).
      ...(process.env.BENCH_STANDIN_KEEPALIVE_MS
        ? { keepAliveMs: Number(process.env.BENCH_STANDIN_KEEPALIVE_MS) }
        : {}),
    },
    execArgv: ['--import', 'tsx', '--conditions=development'],
  });
  const [urls] = (await once(standins, 'message')) as [{ ollama: string; qdrant: string }];
  const ask = async <T>(msg: string, key: string): Promise<T> => {
    standins.postMessage(msg);
    for (;;) {
      const [reply] = (await once(standins, 'message')) as [Record<string, T>];
      if (key in reply) return reply[key]!;
    }
  };
  const drop = await mkdtemp(join(tmpdir(), 'rattg-bench-drop-'));
  const env: Record<string, string> = {
    JWT_SECRET: 'bench-secret-0123456789abcdef',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl.toString(),
    S3_ENDPOINT: provided.s3Endpoint!,
    MINIO_ROOT_USER: provided.s3AccessKey!,
    MINIO_ROOT_PASSWORD: provided.s3SecretKey!,
    S3_BUCKET: `bench-${randomBytes(4).toString('hex')}`,
    QDRANT_URL: urls.qdrant,
    OLLAMA_URL: urls.ollama,
    DROP_DIR: drop,
    // Any free port: a fixed one may be taken (another benchmark, a running ingestor).
    INGESTOR_HEALTH_PORT: '0',
    // Tuning knobs may be set from the environment for experiments.
    ...Object.fromEntries(
      [
        'INGEST_CONCURRENCY',
        'EMBED_BATCH_SIZE',
        'EMBED_CONCURRENCY',
        'EMBED_BATCH_WAIT_MS',
        'CHUNK_TOKENS',
        'LOG_LEVEL',
        'DATABASE_POOL_MAX',
        'INGESTOR_HEALTH_PORT',
        'DROP_CONCURRENCY',
      ]
        .filter((k) => process.env[k])
        .map((k) => [k, process.env[k]!]),
    ),
  };
  const config = parseConfig(env);
  let child: ChildProcess | undefined;
  let closing = false;
  /** Set when the ingestor exited before close(): why. */
  let exited: string | undefined;
  const harness: Harness = {
    config,
    env,
    drop,
    counters: () => ask<EmbedCounters>('counters', 'counters'),
    startIngestor() {
      // The same heap cap as the ingestor image (ingestor/Dockerfile); INGESTOR_NODE_OPTIONS overrides.
      const nodeArgs = (process.env.INGESTOR_NODE_OPTIONS ?? '--max-old-space-size=384')
        .split(' ')
        .filter(Boolean);
      child = spawn(process.execPath, [...nodeArgs, 'ingestor/dist/main.js'], {
        env: { PATH: process.env.PATH ?? '', ...env },
        // Its warnings and errors (LOG_LEVEL=warn) show in the benchmark's output.
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('exit', (code, signal) => {
        if (closing) return;
        exited = `the ingestor exited (${signal ?? `code ${code}`}) before the benchmark finished; its output above says why`;
        console.error(exited);
        // Nothing more can be measured: stop now rather than wait out the progress timeouts.
        process.exitCode = 1;
        void harness.close().finally(() => process.exit(1));
      });
      return child;
    },
    async waitForIngestor(ready, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exited) throw new Error(exited);
        if (await ready()) return;
        if (Date.now() > deadline) throw new Error(`the ingestor was not ready after ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async cpu() {
      const own = process.cpuUsage();
      return {
        ingestorMs: child?.pid ? await processCpuMs(child.pid) : 0,
        postgresMs: postmaster ? await postgresCpuMs(postmaster) : 0,
        benchMs: (own.user + own.system) / 1000,
      };
    },
    async peakRss() {
      const status = await readFile(`/proc/${child!.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async close() {
      if (closing) return;
      closing = true;
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await ask('close', 'closed');
      await standins.terminate();
      await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
      await admin.end();
      await rm(drop, { recursive: true, force: true });
      await teardown();
    },
  };
  return harness;
}

/** The p-th percentile (0–100) of unsorted values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
