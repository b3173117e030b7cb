/**
 * The benchmark's stack for `npm run bench:gateway`: real Postgres (embedded, a fresh database from
 * the test template), the stand-ins in their own process (standins.ts: Qdrant, Ollama embeddings,
 * a streaming OpenAI-compatible upstream), 50 indexed org documents (400 passages), and the compiled gateway in
 * its own process (server.mjs), signed in as the admin.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { request } from 'undici';
import { createVectorIndex, encodeDocument } from '@rattgllm/core';
import setup, { TEMPLATE_DB, TEST_ADMIN_PASSWORD } from '../../test/support/global-setup.js';
import { lexicalEmbedding } from '../../test/standins/index.js';
import { agent } from './measure.js';

const DIM = 768;

export interface StackOptions {
  tokens: number;
  intervalMs: number;
  /** NODE_OPTIONS of the gateway process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/gwprof`. */
  gatewayNodeOptions: string;
  /** The seeded documents (see seed). */
  corpus: 'sections' | 'short';
}

export interface Stack {
  /** The upstream's base URL (…/v1), called directly for the baseline. */
  upstream: string;
  /** The gateway's base URL. */
  gateway: string;
  /** The admin's Authorization header. */
  auth: Record<string, string>;
  /** Asks the gateway (or the stand-ins') process over IPC; resolves with the first reply that has `key`. */
  ask<T>(msg: string, key: string, to?: 'gateway' | 'standins'): Promise<T>;
  close(): Promise<void>;
  /** Another gateway process on the same stack (`env` on top of the first one's), e.g. another build to compare. */
  spawnGateway(env: Record<string, string>): Promise<{ url: string; proc: ChildProcess }>;
}

/**
 * A child process. `logFile`: its stdout goes to that file. The gateway logs at its shipped level
 * (info: a line per request) and pays for writing it, but not into a pipe read by this load
 * generator, which is busiest exactly when the gateway is (a full pipe blocks pino's sync write).
 */
function child(script: string, env: Record<string, string>, logFile?: number): ChildProcess {
  return fork(new URL(script, import.meta.url).pathname, {
    // TypeScript through tsx; the gateway itself runs compiled (.mjs importing gateway/dist).
    execArgv: script.endsWith('.mjs') ? [] : ['--import', 'tsx', '--conditions=development'],
    env: { ...process.env, ...env },
    stdio: ['ignore', logFile ?? 'inherit', 'inherit', 'ipc'],
  });
}

/** Warnings and errors of a gateway log, for the console. */
function warnings(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => /"level":(40|50|60),/.test(l));
}

/** Sentences of a seeded section: sentence `k` of document `d`, section `s`. */
const TOPICS = ['travel expenses', 'parking permits', 'salary bands', 'holiday rota', 'security policy'];
const sentence = (d: number, s: number, k: number) =>
  `Rule ${k} of section ${s} in document ${d} covers ${TOPICS[(d + s + k) % TOPICS.length]}: how they are handled, who approves them, and the deadlines that apply to every team.`;

/**
 * 50 org documents as the ingestor would leave them. `sections` (default): each 2 sections of 4
 * chunks of about 4 sentences (~600 characters), the next one repeating its last sentence (the
 * chunker's overlap), one heading per section — so passage windows (PASSAGE_WINDOW_TOKENS) really
 * fetch, join and trim neighbours, and the prompt carries windows, as on real documents.
 * `short` (BENCH_CORPUS=short, the corpus before): 4 one-sentence chunks, each its own section, so
 * no window ever grows — for comparing with figures measured on it.
 */
async function seed(
  dbUrl: string,
  qdrantUrl: string,
  collection: string,
  corpus: 'sections' | 'short',
): Promise<void> {
  const index = createVectorIndex({ QDRANT_URL: qdrantUrl, QDRANT_COLLECTION: collection, EMBED_DIM: DIM });
  await index.ensureCollection();
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  for (let d = 0; d < 50; d++) {
    const id = randomUUID();
    await db.query(
      `insert into documents (id, owner_id, filename, mime, size, sha256, storage_key, source, source_path, access, status, chunk_count)
       values ($1, null, $2, 'text/plain', 100, $3, $4, 'drop', $5, 'org', 'indexed', $6)`,
      [
        id,
        `doc-${d}.txt`,
        randomBytes(32).toString('hex'),
        `documents/${id}`,
        `/drop/doc-${d}.txt`,
        corpus === 'short' ? 4 : 8,
      ],
    );
    const chunks = Array.from({ length: corpus === 'short' ? 4 : 8 }, (_, i) => {
      const section = corpus === 'short' ? i : Math.floor(i / 4);
      const first = (i % 4) * 3;
      const text =
        corpus === 'short'
          ? `Section ${i} of document ${d} about ${TOPICS[(d + i) % TOPICS.length]}: how they are handled, who approves them, and the deadlines that apply to every team.`
          : [0, 1, 2, 3].map((k) => sentence(d, section, first + k)).join(' ');
      return {
        index: i,
        text,
        page: section + 1,
        heading: `Section ${section}`,
        dense: lexicalEmbedding(text, DIM),
        sparse: encodeDocument(text),
      };
    });
    await index.upsertChunks(id, 1, chunks, { filename: `doc-${d}.txt`, principals: ['org'] });
  }
  await db.end();
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const provided: Record<string, string> = {};
  console.log('starting Postgres and S3 …');
  const teardown = await setup({ provide: (k: string, v: string) => (provided[k] = v) } as never);
  const adminUrl = provided.databaseAdminUrl!;
  const dbName = `rattg_gwbench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${TEMPLATE_DB}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;

  const standins = child('./standins.ts', {
    BENCH_TOKENS: String(options.tokens),
    BENCH_INTERVAL_MS: String(options.intervalMs),
  });
  const [urls] = (await once(standins, 'message')) as [{ ollama: string; qdrant: string; upstream: string }];
  const collection = `gwbench_${randomBytes(4).toString('hex')}`;
  await seed(dbUrl.toString(), urls.qdrant, collection, options.corpus);

  const gatewayEnv = {
    NODE_ENV: 'production',
    // The shipped default (info: a line per request), so the benchmark pays what production pays.
    LOG_LEVEL: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'info',
    JWT_SECRET: 'bench-secret-0123456789abcdef',
    ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    DATABASE_URL: dbUrl.toString(),
    DATABASE_POOL_MAX: '20',
    S3_ENDPOINT: provided.s3Endpoint!,
    MINIO_ROOT_USER: provided.s3AccessKey!,
    MINIO_ROOT_PASSWORD: provided.s3SecretKey!,
    QDRANT_URL: urls.qdrant,
    QDRANT_COLLECTION: collection,
    OLLAMA_URL: urls.ollama,
    LLM_BASE_URL: urls.upstream,
    EMBED_DIM: String(DIM),
    PIPELINES_DIR: new URL('../../pipelines', import.meta.url).pathname,
    LOGIN_RATE_LIMIT_MAX: '1000',
    NODE_OPTIONS: options.gatewayNodeOptions,
  };
  const logDir = mkdtempSync(join(tmpdir(), 'gwbench-log-'));
  const logs: { path: string; fd: number }[] = [];
  const logFile = () => {
    const path = join(logDir, `gateway-${logs.length}.log`);
    logs.push({ path, fd: openSync(path, 'w') });
    return logs.at(-1)!.fd;
  };
  const gateway = child(process.env.BENCH_GATEWAY_SCRIPT ?? './server.mjs', gatewayEnv, logFile());
  const gatewayLog = logs[0]!.path;
  gateway.once('exit', (code) => {
    if (!code) return;
    console.error(
      `the gateway exited (${code}); the end of its log:\n${readFileSync(gatewayLog, 'utf8').slice(-4000)}`,
    );
    process.exit(1);
  });
  const [{ url: gw }] = (await once(gateway, 'message')) as [{ url: string }];
  const others: ChildProcess[] = [];
  const login = await request(`${gw}/auth/login`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
  });
  const token = ((await login.body.json()) as { access_token: string }).access_token;

  return {
    upstream: urls.upstream,
    gateway: gw,
    async spawnGateway(env: Record<string, string>) {
      const g = child(
        process.env.BENCH_GATEWAY_SCRIPT ?? './server.mjs',
        { ...gatewayEnv, ...env },
        logFile(),
      );
      others.push(g);
      const [{ url }] = (await once(g, 'message')) as [{ url: string }];
      return { url, proc: g };
    },
    auth: { authorization: `Bearer ${token}` },
    async ask<T>(msg: string, key: string, to: 'gateway' | 'standins' = 'gateway'): Promise<T> {
      const proc = to === 'gateway' ? gateway : standins;
      proc.send(msg);
      for (;;) {
        const [reply] = (await once(proc, 'message')) as [Record<string, unknown>];
        if (key in reply) return reply as T;
      }
    },
    async close() {
      for (const g of others) g.send('close');
      gateway.send('close');
      standins.send('close');
      await Promise.all([
        once(gateway, 'exit'),
        once(standins, 'exit'),
        ...others.filter((g) => g.exitCode === null).map((g) => once(g, 'exit')),
      ]);
      await agent.close();
      for (const { path, fd } of logs) {
        closeSync(fd);
        for (const l of warnings(path)) console.log(l);
      }
      console.log(`gateway logs: ${logDir}`);
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      await teardown();
    },
  };
}
