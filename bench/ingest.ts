/**
 * `npm run bench:ingest` — ingest a generated mixed corpus through the real ingestor (real
 * Postgres, in-process S3, Qdrant and Ollama stand-ins; the embedder costs a fixed time per batch)
 * and report throughput, the embedder's busy ratio, peak RSS and drop-to-searchable latency.
 *
 * Corpus text is real English prose: the README files of the installed npm packages.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { readmes } from './corpus.js';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeDocx, makePdf } from '../ingestor/test/fixtures.js';
import { createDb, createEmbedder, createVectorIndex, encodeQuery } from '@rattgllm/core';
import { parseDocument } from '../ingestor/src/pipeline/parse/index.js';
import { chunkDocument } from '../ingestor/src/pipeline/chunk.js';
import { MB, startHarness } from './ingest-harness.js';

const FILES = Number(process.env.BENCH_FILES ?? 220);
const TARGET_BYTES = Number(process.env.BENCH_MB ?? 22) * 1024 * 1024;
// nomic-embed-text on one mid-range GPU: ~32 passages of ~400 tokens in about 150 ms.
const BATCH_COST_MS = Number(process.env.BENCH_BATCH_COST_MS ?? 150);

async function readmeText(limit: number): Promise<string> {
  const text = (await readmes(limit)).map((b) => b.toString('utf8')).join('\n\n');
  return text.repeat(Math.ceil(limit / Math.max(1, text.length)));
}

/** Deadlines so a stuck ingestor ends the run with a message instead of hanging it. */
const INGEST_DEADLINE_MS = 15 * 60_000;
const SEARCHABLE_DEADLINE_MS = 60_000;

async function main() {
  const harness = await startHarness({ callMs: BATCH_COST_MS, textMs: 0 });
  const { config, drop, counters } = harness;

  // ---- corpus
  console.log(`generating ${FILES} files, ~${TARGET_BYTES / MB} MB of text ...`);
  const text = await readmeText(TARGET_BYTES);
  const per = Math.floor(TARGET_BYTES / FILES);
  let offset = 0;
  let textBytes = 0;
  const slice = () => {
    const s = text.slice(offset % text.length, (offset % text.length) + per);
    offset += per;
    textBytes += Buffer.byteLength(s);
    return s;
  };
  for (let i = 0; i < FILES; i++) {
    const kind = i % 11;
    const dir = join(drop, 'shared', `batch${i % 10}`);
    await mkdir(dir, { recursive: true });
    if (kind === 0) {
      const body = slice();
      const paragraphs = body.split(/\n\s*\n/).filter((p) => p.trim());
      await writeFile(
        join(dir, `doc${i}.pdf`),
        await makePdf([
          { paragraphs: paragraphs.slice(0, Math.ceil(paragraphs.length / 2)) },
          { paragraphs: paragraphs.slice(Math.ceil(paragraphs.length / 2)) },
        ]),
      );
    } else if (kind === 1) {
      await writeFile(join(dir, `doc${i}.docx`), await makeDocx());
    } else if (kind === 2) {
      const rows = slice()
        .split('\n')
        .filter(Boolean)
        .map((l, n) => `${n},"${l.replace(/"/g, '""')}"`);
      await writeFile(join(dir, `doc${i}.csv`), `line,text\n${rows.join('\n')}\n`);
    } else if (kind === 3) {
      await writeFile(
        join(dir, `doc${i}.html`),
        `<html><body><h1>Doc ${i}</h1>${slice()
          .split(/\n\s*\n/)
          .map((p) => `<p>${p.replace(/</g, '&lt;')}</p>`)
          .join('')}</body></html>`,
      );
    } else if (kind === 4) {
      await writeFile(join(dir, `doc${i}.txt`), slice());
    } else {
      await writeFile(join(dir, `doc${i}.md`), slice());
    }
  }
  console.log(`corpus: ${FILES} files, ${(textBytes / MB).toFixed(1)} MB of text`);

  // ---- parse + chunk alone, one core
  const sample = text.slice(0, 8 * MB);
  const t0 = performance.now();
  const parsed = await parseDocument(
    { data: Buffer.from(sample), filename: 'sample.md' },
    { signal: new AbortController().signal, log: console as never },
  );
  await chunkDocument(
    parsed,
    { targetTokens: config.CHUNK_TOKENS ?? 400, overlap: config.CHUNK_OVERLAP },
    { signal: new AbortController().signal, log: { debug() {}, info() {}, warn() {} } },
  );
  const parseChunkMBs = Buffer.byteLength(sample) / MB / ((performance.now() - t0) / 1000);

  // ---- full ingest: the built ingestor, as production runs it, in a process of its own
  const start = performance.now();
  harness.startIngestor();
  const peakRssOf = harness.peakRss;
  const db = createDb(config);
  const embedder = createEmbedder(config);
  const index = createVectorIndex(config);
  for (;;) {
    const r = await db('documents')
      .select(
        db.raw(
          `count(*) filter (where status in ('indexed','failed')) as done, count(*) as total, sum(chunk_count) as chunks, count(*) filter (where status = 'failed') as failed`,
        ),
      )
      .first();
    if (Number(r.total) >= FILES && Number(r.done) === Number(r.total)) {
      const wall = (performance.now() - start) / 1000;
      const peakRss = await peakRssOf();
      const chunks = Number(r.chunks);
      console.log('\n=== bench:ingest ===');
      console.log(`files                 ${r.total} (${r.failed} failed)`);
      console.log(`wall time             ${wall.toFixed(1)} s`);
      console.log(`files/s               ${(Number(r.total) / wall).toFixed(1)}`);
      console.log(`chunks/s              ${(chunks / wall).toFixed(0)} (${chunks} chunks)`);
      console.log(`MB/s (text)           ${(textBytes / MB / wall).toFixed(2)}`);
      console.log(`parse+chunk MB/s/core ${parseChunkMBs.toFixed(1)} (markdown, one core, 8 MB)`);
      const c = await counters();
      console.log(
        `embedder busy ratio   ${(c.busyMs / 1000 / wall).toFixed(2)} (${c.embedCalls} calls × ${BATCH_COST_MS} ms, ${(c.embedInputs / c.embedCalls).toFixed(1)} texts/call)`,
      );
      console.log(`peak RSS              ${(peakRss / MB).toFixed(0)} MB (the ingestor process, VmHWM)`);
      break;
    }
    if (performance.now() - start > INGEST_DEADLINE_MS)
      throw new Error(
        `bench:ingest: ${r.done} of ${r.total} files done after ${INGEST_DEADLINE_MS / 1000} s; giving up`,
      );
    await new Promise((res) => setTimeout(res, 200));
  }

  // ---- drop-to-searchable for a one-page file
  const latencies: number[] = [];
  for (let n = 0; n < 5; n++) {
    const word = `zebracorn${n}${randomBytes(3).toString('hex')}`;
    const t = performance.now();
    const busy0 = (await counters()).busyMs;
    await mkdir(join(drop, 'shared', 'latency'), { recursive: true });
    await writeFile(
      join(drop, 'shared', 'latency', `${word}.txt`),
      `One page about ${word}.\n\n${text.slice(0, 2500)}`,
    );
    for (;;) {
      const hits = await index.hybridSearch({
        dense: await embedder.embedQuery(word),
        sparse: encodeQuery(word),
        principals: ['org'],
        limit: 3,
      });
      if (hits.some((h) => h.payload.filename === `${word}.txt`)) break;
      // A dropped file that never becomes searchable is a failure to report, not a hang.
      if (performance.now() - t > SEARCHABLE_DEADLINE_MS) {
        const row = await db('documents')
          .where({ filename: `${word}.txt` })
          .first('status', 'error', 'chunk_count');
        throw new Error(
          `bench:ingest: ${word}.txt not searchable after ${SEARCHABLE_DEADLINE_MS / 1000} s (its row: ${JSON.stringify(row ?? null)}; top hits: ${JSON.stringify(hits.map((h) => h.payload.filename))})`,
        );
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    const elapsed = (performance.now() - t) / 1000;
    latencies.push(elapsed - ((await counters()).busyMs - busy0) / 1000);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `drop-to-searchable    median ${latencies[2]!.toFixed(2)} s, max ${latencies[4]!.toFixed(2)} s (1-page file, minus embedding time; the watcher waits 500 ms for writes to settle)`,
  );
  console.log(`machine               ${cpus().length} cores`);

  console.log(`peak RSS after drops   ${((await peakRssOf()) / MB).toFixed(0)} MB`);
  await db.destroy();
  await harness.close();
}

await main();
