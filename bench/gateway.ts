/**
 * `npm run bench:gateway` — what the gateway adds to a streamed chat answer.
 *
 * One run, three processes: stand-ins (Qdrant, Ollama embeddings, and an OpenAI-compatible
 * upstream streaming BENCH_TOKENS chunks every BENCH_INTERVAL_MS, each stamped with the time it
 * was written), the real gateway (own process: own RSS), and this load generator. Real Postgres
 * (embedded) behind the gateway, the shipped `rattgllm` pipeline, 50 indexed documents. The
 * gateway runs from gateway/dist, so the script builds first (`tsc -b gateway`).
 *
 * Reports
 * - added time-to-first-token: gateway TTFT − direct TTFT − (embed + vector search) of the same
 *   request (from the gateway's Server-Timing header), paired per iteration; and the same for a
 *   request without retrieval (Open WebUI task header: pure proxy cost);
 * - added per-chunk delay: (arrival − upstream write time) through the gateway vs direct;
 * - BENCH_CONCURRENCY concurrent streams through the gateway: errors, TTFT, gateway peak RSS;
 * - the gateway's own stages (Server-Timing: auth, parse, pipeline, identity, embed, search, acl,
 *   prompt, upstream) and what no stage covers (request in, first write out), p50 / p99.
 * BENCH_GATEWAY_NODE_OPTIONS is passed to the gateway process (e.g. `--cpu-prof`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { Agent, request } from 'undici';
import { createVectorIndex, encodeDocument } from '@rattgllm/core';
import setup, { TEMPLATE_DB, TEST_ADMIN_PASSWORD } from '../test/support/global-setup.js';
import { lexicalEmbedding } from '../test/standins/index.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 20);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 10);
const DIM = 768;
const MB = 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const f = (n: number) => n.toFixed(2);

function child(script: string, env: Record<string, string>): ChildProcess {
  return fork(new URL(script, import.meta.url).pathname, {
    // TypeScript through tsx; the gateway itself runs compiled (.mjs importing gateway/dist).
    execArgv: script.endsWith('.mjs') ? [] : ['--import', 'tsx', '--conditions=development'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
async function ask<T>(proc: ChildProcess, msg: string, key: string): Promise<T> {
  proc.send(msg);
  for (;;) {
    const [reply] = (await once(proc, 'message')) as [Record<string, unknown>];
    if (key in reply) return reply as T;
  }
}

interface StreamResult {
  ok: boolean;
  status: number;
  ttftMs: number;
  /** Arrival − upstream write time of every content chunk (ms). */
  chunkDelays: number[];
  tokens: number;
  retrievalMs: number;
  /** The gateway's Server-Timing stages (ms). */
  stages: Record<string, number>;
  error?: string;
}

const agent = new Agent({ connections: 1024, keepAliveTimeout: 60_000, pipelining: 1 });

async function stream(url: string, headers: Record<string, string>, model: string): Promise<StreamResult> {
  const t0 = now();
  const out: StreamResult = {
    ok: false,
    status: 0,
    ttftMs: NaN,
    chunkDelays: [],
    tokens: 0,
    retrievalMs: 0,
    stages: {},
  };
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        model,
        stream: true,
        messages: [{ role: 'user', content: 'How are travel expenses reimbursed?' }],
      }),
    });
    out.status = res.statusCode;
    const timing = String(res.headers['server-timing'] ?? '');
    for (const m of timing.matchAll(/(\w+);dur=([\d.]+)/g)) {
      out.stages[m[1]!] = Number(m[2]);
      if (m[1] === 'embed' || m[1] === 'search') out.retrievalMs += Number(m[2]);
    }
    let buf = '';
    let done = false;
    for await (const chunk of res.body) {
      const arrived = now();
      buf += (chunk as Buffer).toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.startsWith('data: ') ? block.slice(6) : '';
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        if (!data) continue;
        const parsed = JSON.parse(data) as { ts?: number; choices?: { delta?: { content?: string } }[] };
        if (parsed.choices?.[0]?.delta?.content) {
          if (out.tokens === 0) out.ttftMs = arrived - t0;
          out.tokens++;
          if (parsed.ts) out.chunkDelays.push(arrived - parsed.ts);
        }
      }
    }
    out.ok = res.statusCode === 200 && done && out.tokens === TOKENS;
    if (!out.ok) out.error = `status ${res.statusCode}, done ${done}, tokens ${out.tokens}`;
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

async function main() {
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

  const standins = child('./gateway-standins.ts', {
    BENCH_TOKENS: String(TOKENS),
    BENCH_INTERVAL_MS: String(INTERVAL_MS),
  });
  const [urls] = (await once(standins, 'message')) as [{ ollama: string; qdrant: string; upstream: string }];

  // 50 org documents × 4 passages, as the ingestor would leave them.
  const collection = `gwbench_${randomBytes(4).toString('hex')}`;
  const index = createVectorIndex({ QDRANT_URL: urls.qdrant, QDRANT_COLLECTION: collection, EMBED_DIM: DIM });
  await index.ensureCollection();
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();
  const topics = ['travel expenses', 'parking permits', 'salary bands', 'holiday rota', 'security policy'];
  for (let d = 0; d < 50; d++) {
    const id = randomUUID();
    await db.query(
      `insert into documents (id, owner_id, filename, mime, size, sha256, storage_key, source, source_path, access, status, chunk_count)
       values ($1, null, $2, 'text/plain', 100, $3, $4, 'drop', $5, 'org', 'indexed', 4)`,
      [id, `doc-${d}.txt`, randomBytes(32).toString('hex'), `documents/${id}`, `/drop/doc-${d}.txt`],
    );
    const chunks = Array.from({ length: 4 }, (_, i) => {
      const text = `Section ${i} of document ${d} about ${topics[(d + i) % topics.length]}: how they are handled, who approves them, and the deadlines that apply to every team.`;
      return {
        index: i,
        text,
        page: i + 1,
        heading: `Section ${i}`,
        dense: lexicalEmbedding(text, DIM),
        sparse: encodeDocument(text),
      };
    });
    await index.upsertChunks(id, 1, chunks, { filename: `doc-${d}.txt`, principals: ['org'] });
  }
  await db.end();

  const gateway = child('./gateway-server.mjs', {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
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
    PIPELINES_DIR: new URL('../pipelines', import.meta.url).pathname,
    LOGIN_RATE_LIMIT_MAX: '1000',
    // e.g. `--cpu-prof --cpu-prof-dir=/tmp/gwprof`: a profile of the gateway alone.
    NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '',
  });
  const [{ url: gw }] = (await once(gateway, 'message')) as [{ url: string }];
  const login = await request(`${gw}/auth/login`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
  });
  const token = ((await login.body.json()) as { access_token: string }).access_token;
  const auth = { authorization: `Bearer ${token}` };

  const direct = () => stream(`${urls.upstream}/chat/completions`, {}, 'llama3.1:8b');
  const viaRag = () => stream(`${gw}/v1/chat/completions`, auth, 'rattgllm');
  const viaProxy = () =>
    stream(`${gw}/v1/chat/completions`, { ...auth, 'x-openwebui-task': 'bench' }, 'rattgllm');

  console.log(
    `upstream: ${TOKENS} chunks every ${INTERVAL_MS} ms; ${ITERATIONS} sequential iterations; warming up …`,
  );
  for (let i = 0; i < 30; i++) {
    await direct();
    await viaRag();
    await viaProxy();
  }

  const addedRag: number[] = [];
  const addedProxy: number[] = [];
  const retrieval: number[] = [];
  const directDelays: number[] = [];
  const ragDelays: number[] = [];
  const directTtft: number[] = [];
  const ragStages: Record<string, number>[] = [];
  const proxyStages: Record<string, number>[] = [];
  let seqErrors = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const d = await direct();
    const r = await viaRag();
    const p = await viaProxy();
    if (!d.ok || !r.ok || !p.ok) {
      seqErrors++;
      continue;
    }
    directTtft.push(d.ttftMs);
    // Untimed: the request reaching the route and the first write back, beyond the stages.
    const untimed = (x: StreamResult) => x.ttftMs - Object.values(x.stages).reduce((a, b) => a + b, 0);
    ragStages.push({ ...r.stages, untimed: untimed(r) });
    proxyStages.push({ ...p.stages, untimed: untimed(p) });
    retrieval.push(r.retrievalMs);
    addedRag.push(r.ttftMs - r.retrievalMs - d.ttftMs);
    addedProxy.push(p.ttftMs - d.ttftMs);
    directDelays.push(...d.chunkDelays);
    ragDelays.push(...r.chunkDelays, ...p.chunkDelays);
  }

  console.log(`\n${CONCURRENCY} concurrent streams through the gateway (with retrieval) …`);
  const { rss: idleRss } = await ask<{ rss: number }>(gateway, 'reset-peak', 'reset');
  const t0 = now();
  const results = await Promise.all(Array.from({ length: CONCURRENCY }, () => viaRag()));
  const wall = now() - t0;
  const { peak, rss } = await ask<{ peak: number; rss: number }>(gateway, 'rss', 'peak');
  const errors = results.filter((r) => !r.ok);

  const line = (label: string, value: string, target = '') =>
    console.log(`  ${label.padEnd(52)} ${value.padStart(12)}  ${target}`);
  console.log('\nResults');
  line('direct TTFT p50 / p99 (ms)', `${f(pct(directTtft, 50))} / ${f(pct(directTtft, 99))}`);
  line('embed + vector search p50 / p99 (ms)', `${f(pct(retrieval, 50))} / ${f(pct(retrieval, 99))}`);
  line('added TTFT with retrieval, p50 (ms)', f(pct(addedRag, 50)), '(target ≤ 3 ms)');
  line('added TTFT with retrieval, p99 (ms)', f(pct(addedRag, 99)));
  line(
    'added TTFT, proxy only (task request), p50 / p99 (ms)',
    `${f(pct(addedProxy, 50))} / ${f(pct(addedProxy, 99))}`,
  );
  line('chunk delay direct p50 / p99 (ms)', `${f(pct(directDelays, 50))} / ${f(pct(directDelays, 99))}`);
  line('chunk delay via gateway p50 / p99 (ms)', `${f(pct(ragDelays, 50))} / ${f(pct(ragDelays, 99))}`);
  line('added per-chunk delay p99 (ms)', f(pct(ragDelays, 99) - pct(directDelays, 99)), '(target ≤ 1 ms)');
  line('sequential errors', String(seqErrors));
  for (const [label, rows] of [
    ['with retrieval', ragStages],
    ['proxy only', proxyStages],
  ] as const) {
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    console.log(`  gateway stages, ${label} (Server-Timing), p50 / p99 ms:`);
    console.log(
      '    ' +
        names
          .map((n) => {
            const v = rows.map((r) => r[n] ?? 0);
            return `${n} ${f(pct(v, 50))}/${f(pct(v, 99))}`;
          })
          .join(', '),
    );
  }
  line(`${CONCURRENCY} concurrent: errors`, String(errors.length), '(target 0)');
  if (errors.length) console.log('   first error:', errors[0]!.error);
  const ok = results.filter((r) => r.ok);
  line(
    `${CONCURRENCY} concurrent: TTFT p50 / p99 (ms)`,
    `${f(
      pct(
        ok.map((r) => r.ttftMs),
        50,
      ),
    )} / ${f(
      pct(
        ok.map((r) => r.ttftMs),
        99,
      ),
    )}`,
  );
  line(
    `${CONCURRENCY} concurrent: wall time (ms)`,
    f(wall),
    `(ideal ≈ ${(TOKENS - 1) * INTERVAL_MS} ms of tokens)`,
  );
  line(`${CONCURRENCY} concurrent: gateway peak RSS (MB)`, f(peak / MB), '(target < 300 MB)');
  line('gateway RSS before / after the burst (MB)', `${f(idleRss / MB)} / ${f(rss / MB)}`);

  gateway.send('close');
  standins.send('close');
  await Promise.all([once(gateway, 'exit'), once(standins, 'exit')]);
  await agent.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await teardown();
}

await main();
