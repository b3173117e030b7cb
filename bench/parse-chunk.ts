/**
 * `npm run bench:parse` — parse + chunk throughput per core for TXT and Markdown on real English
 * prose: the README.md files of the installed npm packages (each one a document), run through
 * `parseDocument` and `chunkSections` exactly as the ingest job does, with the configured defaults
 * (CHUNK_TOKENS 400, CHUNK_OVERLAP 0.15). No services are started.
 *
 * Each format runs in a fresh process of its own:
 *  - cold: the first pass over the corpus (JIT not warmed up, token memo empty), what a worker
 *    that has just started sees;
 *  - warm: the median of the next passes over the same corpus.
 * "Per core" is bytes over the process's CPU time (user + system, so GC helper threads count
 * against us); the wall-clock figure of the single-threaded loop is printed next to it.
 *
 * Env: BENCH_PARSE_MB (corpus cap, default 8), BENCH_PARSE_PASSES (warm passes, default 5).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseDocument } from '../ingestor/src/pipeline/parse/index.js';
import { chunkSections } from '../ingestor/src/pipeline/chunk.js';
import { readmes } from './corpus.js';

const MB = 1024 * 1024;
const LIMIT = Number(process.env.BENCH_PARSE_MB ?? 8) * MB;
const PASSES = Math.max(1, Number(process.env.BENCH_PARSE_PASSES ?? 5));
const CHUNK = { targetTokens: 400, overlap: 0.15 };
const FORMATS = ['txt', 'md'] as const;
type Format = (typeof FORMATS)[number];

interface Pass {
  bytes: number;
  chunks: number;
  wallMs: number;
  cpuMs: number;
}
interface Result {
  format: Format;
  files: number;
  cold: Pass;
  warm: Pass[];
}

async function pass(files: Buffer[], format: Format): Promise<Pass> {
  const ctx = { signal: new AbortController().signal, log: { debug() {}, info() {}, warn() {} } };
  let bytes = 0;
  let chunks = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < files.length; i++) {
    const data = files[i]!;
    const doc = await parseDocument({ data, filename: `doc${i}.${format}` }, ctx);
    chunks += chunkSections(doc.sections, CHUNK).length;
    bytes += data.length;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { bytes, chunks, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Child: one format, cold then warm passes; the result goes back over IPC. */
async function runOne(format: Format): Promise<void> {
  const files = await readmes(LIMIT);
  const cold = await pass(files, format);
  const warm: Pass[] = [];
  for (let i = 0; i < PASSES; i++) warm.push(await pass(files, format));
  const result: Result = { format, files: files.length, cold, warm };
  process.send!(result, () => process.disconnect());
}

const mbs = (p: Pass, ms: number): number => p.bytes / MB / (ms / 1000);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const format = process.argv[2];
  if (format !== undefined) {
    if (!FORMATS.includes(format as Format)) throw new Error(`unknown format ${format}`);
    return runOne(format as Format);
  }
  const self = fileURLToPath(import.meta.url);
  console.log('=== bench:parse (parse + chunk, CHUNK_TOKENS 400, overlap 0.15) ===');
  for (const f of FORMATS) {
    const child = fork(self, [f], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const result = await new Promise<Result>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Result));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`bench child for ${f} exited with ${code}`)));
    });
    const { cold, warm } = result;
    const warmCpu = median(warm.map((p) => mbs(p, p.cpuMs)));
    const warmWall = median(warm.map((p) => mbs(p, p.wallMs)));
    console.log(
      `${f.padEnd(3)}  ${result.files} files, ${(cold.bytes / MB).toFixed(1)} MB, ${cold.chunks} chunks | ` +
        `cold ${mbs(cold, cold.cpuMs).toFixed(1)} MB/s/core (wall ${mbs(cold, cold.wallMs).toFixed(1)}) | ` +
        `warm ${warmCpu.toFixed(1)} MB/s/core (wall ${warmWall.toFixed(1)}, median of ${warm.length})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
