/**
 * `npm run bench:ingest:small` — many small files (SciFact title + abstract, 1–3 KB each) through
 * the built ingestor, once uploaded (what the gateway's upload does: object, then row + job in one
 * transaction) and once written to the drop folder, with an embedder that costs
 * `BENCH_CALL_COST_MS + BENCH_TEXT_COST_MS × texts` per call on one simulated device.
 *
 * Reports per path: files/s, embed calls, texts per call, the embedder's busy ratio, per-file
 * time from upload (or write) to `indexed` p50/p95, and the ingestor's peak RSS.
 * BENCH_RATE (files/s) offers a steady load instead of a burst. BENCH_WARMUP files (default 100)
 * go through both paths first, unmeasured, so that neither path is measured on a cold process.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  JOBS,
  createDb,
  createStorage,
  hashPassword,
  objectKey,
  sendInTransaction,
  startQueue,
  type Knex,
} from '@rattgllm/core';
import { scifactFiles } from './corpus.js';
import {
  MB,
  percentile,
  startHarness,
  type CpuTimes,
  type EmbedCounters,
  type Harness,
} from './ingest-harness.js';

const FILES = Number(process.env.BENCH_FILES ?? 2000);
const CALL_COST_MS = Number(process.env.BENCH_CALL_COST_MS ?? 15);
const TEXT_COST_MS = Number(process.env.BENCH_TEXT_COST_MS ?? 0.5);
const RATE = Number(process.env.BENCH_RATE ?? 0);
/** Uploads (or file writes) in flight at once: many people uploading, or a folder copied in. */
const LANES = Number(process.env.BENCH_LANES ?? 32);
const PATHS = (process.env.BENCH_PATHS ?? 'upload,drop').split(',');
/** Files ingested first through both paths and not measured (a warm process, as in production). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 100);
// ../shared next to the repository (a git worktree one level deeper finds it at ../../shared).
const ZIP =
  process.env.BENCH_SCIFACT_ZIP ??
  ['../shared/datasets/scifact.zip', '../../shared/datasets/scifact.zip'].find((p) => existsSync(p)) ??
  '../shared/datasets/scifact.zip';

type File = { name: string; text: string };

/** Offer `files` at RATE per second (or all at once, LANES at a time), recording when each was sent. */
async function offer(files: File[], send: (f: File) => Promise<void>): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  const t0 = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const i = next++;
      if (RATE > 0) {
        const due = t0 + (i * 1000) / RATE;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      sentAt.set(files[i]!.name, Date.now());
      await send(files[i]!);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return sentAt;
}

async function measure(
  label: string,
  harness: Harness,
  db: Knex,
  files: File[],
  send: (f: File) => Promise<void>,
  options: { quiet?: boolean } = {},
): Promise<void> {
  const before: EmbedCounters = await harness.counters();
  const cpuBefore = await harness.cpu();
  const start = Date.now();
  const sentAt = await offer(files, send);
  const names = files.map((f) => f.name);
  // Progress is polled as a count per status (one array parameter, a handful of rows back): the
  // poll shares the machine with what it measures, and reading every row ten times a second cost
  // Postgres and this process about as much CPU per file as the ingestor's own statements. The
  // rows are read once, at the end; the run ends at the last `indexed_at`, not at a poll.
  let lastSeen = '';
  let lastChange = Date.now();
  for (;;) {
    const counts = (
      await db.raw(
        'select status, count(*)::int as n from documents where filename = any(?::text[]) group by status',
        [names],
      )
    ).rows as { status: string; n: number }[];
    const seen = JSON.stringify(Object.fromEntries(counts.map((c) => [c.status, c.n])));
    const settled = counts.filter((c) => c.status === 'indexed' || c.status === 'failed');
    if (settled.reduce((sum, c) => sum + c.n, 0) === files.length) break;
    if (seen !== lastSeen) [lastSeen, lastChange] = [seen, Date.now()];
    else if (Date.now() - lastChange > 30_000) {
      // Reported rather than waited for: the figures below then cover the files that made it.
      const rowsSeen = counts.reduce((sum, c) => sum + c.n, 0);
      console.log(
        `no progress for 30 s, giving up on the rest: ${files.length - rowsSeen} files have no row; ${seen}`,
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  let rows: { filename: string; status: string; indexed_at: Date | null; created_at: Date }[] = await db(
    'documents',
  )
    .whereIn('filename', names)
    .select('filename', 'status', 'indexed_at', 'created_at');
  rows = rows.filter((r) => r.status === 'indexed' || r.status === 'failed');
  const end = Math.max(...rows.map((r) => r.indexed_at?.getTime() ?? 0));
  const wall = (end - start) / 1000;
  const after = await harness.counters();
  const cpuAfter = await harness.cpu();
  const calls = after.embedCalls - before.embedCalls;
  const texts = after.embedInputs - before.embedInputs;
  const latencies = rows
    .filter((r) => r.indexed_at)
    .map((r) => (r.indexed_at!.getTime() - sentAt.get(r.filename)!) / 1000);
  const failed = rows.filter((r) => r.status === 'failed').length;
  if (options.quiet) return;
  console.log(`\n=== bench:ingest:small — ${label} ===`);
  console.log(
    `files                 ${rows.length} of ${files.length} settled (${failed} failed), offered ${RATE > 0 ? `${RATE}/s` : 'at once'}`,
  );
  console.log(`files/s               ${(rows.length / wall).toFixed(1)} (${wall.toFixed(1)} s)`);
  console.log(`embed calls           ${calls} (${(texts / Math.max(1, calls)).toFixed(1)} texts/call)`);
  console.log(
    `embedder busy ratio   ${((after.busyMs - before.busyMs) / 1000 / wall).toFixed(2)} (${CALL_COST_MS} ms + ${TEXT_COST_MS} ms/text per call)`,
  );
  // How long until the file has its row and job (for the drop folder: the watcher's part).
  const registered = rows.map((r) => (r.created_at.getTime() - sentAt.get(r.filename)!) / 1000);
  console.log(
    `upload→row            p50 ${percentile(registered, 50).toFixed(2)} s, p95 ${percentile(registered, 95).toFixed(2)} s`,
  );
  console.log(
    `upload→indexed        p50 ${percentile(latencies, 50).toFixed(2)} s, p95 ${percentile(latencies, 95).toFixed(2)} s`,
  );
  console.log(
    `peak RSS              ${((await harness.peakRss()) / MB).toFixed(0)} MB (ingestor, VmHWM so far)`,
  );
  // CPU per file (ms) and as cores busy over the run: 2 cores shared with everything else.
  const per = (k: keyof CpuTimes) => {
    const ms = cpuAfter[k] - cpuBefore[k];
    return `${(ms / Math.max(1, rows.length)).toFixed(1)} ms/file (${(ms / 1000 / wall).toFixed(2)} cores)`;
  };
  console.log(`CPU ingestor          ${per('ingestorMs')}`);
  console.log(`CPU Postgres          ${per('postgresMs')}`);
  console.log(`CPU bench process     ${per('benchMs')} (S3, stand-ins, driver)`);
}

async function main() {
  const all = await scifactFiles(FILES * PATHS.length + WARMUP, ZIP);
  const harness = await startHarness({ callMs: CALL_COST_MS, textMs: TEXT_COST_MS });
  const { config } = harness;
  console.log(
    `${FILES} files per path, ${(all.reduce((n, f) => n + Buffer.byteLength(f.text), 0) / all.length / 1024).toFixed(1)} KB average; ` +
      `INGEST_CONCURRENCY ${config.INGEST_CONCURRENCY}, EMBED_BATCH_SIZE ${config.EMBED_BATCH_SIZE}, ` +
      `EMBED_CONCURRENCY ${config.EMBED_CONCURRENCY}, ${availableParallelism()} cores`,
  );
  const db = createDb(config);
  const storage = createStorage(config);
  await storage.ensureBucket();
  const [owner] = await db('users')
    .insert({ username: 'bench', password_hash: await hashPassword('bench-pw-1'), roles: ['user'] })
    .returning('id');
  const boss = await startQueue(config, { work: false, onError: (err) => console.error(err) });
  harness.startIngestor();
  // Let it start (collection, queues, the reconcile pass) before the clock runs.
  await harness.waitForIngestor(async () => {
    const done = await db.raw(
      `select count(*)::int as n from pgboss.job where name = '${JOBS.reconcile}' and state = 'completed'`,
    );
    return done.rows[0].n > 0;
  });

  const upload = async (f: File) => {
    const id = randomUUID();
    const key = objectKey(id, f.name);
    const stored = await storage.put(key, Readable.from([Buffer.from(f.text)]), {
      contentType: 'text/markdown',
    });
    await db.transaction(async (trx) => {
      await trx('documents').insert({
        id,
        owner_id: owner.id,
        filename: f.name,
        mime: 'text/markdown',
        size: stored.size,
        sha256: stored.sha256,
        storage_key: key,
        source: 'upload',
        access: 'private',
      });
      await sendInTransaction(boss, trx, JOBS.ingest, { documentId: id });
    });
  };
  const dir = join(harness.drop, 'shared', 'small');
  await mkdir(dir, { recursive: true });
  const drop = (f: File) => writeFile(join(dir, f.name), f.text);

  // Both paths once, unmeasured, so neither is measured on a cold process (JIT, pools, caches).
  const warm = all.slice(FILES * PATHS.length);
  if (warm.length) {
    const half = Math.ceil(warm.length / 2);
    await measure('warm-up', harness, db, warm.slice(0, half), upload, { quiet: true });
    await measure('warm-up', harness, db, warm.slice(half), drop, { quiet: true });
  }
  for (const [n, path] of PATHS.entries()) {
    const files = all.slice(n * FILES, (n + 1) * FILES);
    if (path === 'upload') await measure('upload', harness, db, files, upload);
    else {
      console.log('(the watcher waits 500 ms for writes to settle: part of every drop latency)');
      await measure('drop folder', harness, db, files, drop);
    }
  }
  await boss.stop({ graceful: false, close: true });
  await db.destroy();
  await harness.close();
}

await main();
