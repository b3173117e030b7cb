/**
 * `npm run eval -- [options]`: retrieval quality of the project's own pipeline on a public dataset.
 * Starts Postgres and S3 like the test suite does (or uses DATABASE_URL / S3_ENDPOINT), ingests
 * the dataset through the drop folder into a collection of its own, runs every query through
 * the gateway's retrieval, prints the table and writes the JSON report beside it.
 *
 *   --dataset scifact|covid-qa   (scifact)        --queries N  --docs N   (subset; default all)
 *   --embedder-url URL           an Ollama-compatible embedder (default: the ONNX model in process)
 *   --model NAME --dim N         (all-MiniLM-L6-v2, 384)
 *   --document-prefix S --query-prefix S          ("none" for models without prefixes; default none)
 *   --chunk-tokens N --chunk-overlap F            (default: the project's settings)
 *   --qdrant-url URL             a real Qdrant (default: the in-process stand-in)
 *   --datasets-dir DIR --models-dir DIR           (../shared/datasets, ../shared/models)
 *   --threads N                  ONNX threads (2)   --out FILE  (eval/reports/<dataset>-<time>.json)
 *   --cache-dir DIR | --no-cache embeddings kept by model + text (eval/.cache): reruns skip the model
 *   --split test|train           SciFact claims: BEIR test (300, default) or train (for tuning)
 *   --sweep 'K=V,K=V|K=V'        settings compared on the same index (eval/sweep.ts; topK, minScore and
 *                                maxContextTokens set the chat path, the rest the environment); with SciFact
 *                                the train claims are run too, as the set to choose on
 *   --tuning N                   how many train claims (first N; 400)
 *   --light                      /search, chat and per-passage search only (no limit-100 modes, no ablation)
 *   --dump FILE                  write the index's points and the query vectors (test + tuning) and stop (dump.ts)
 *   --model-context N            ablation: the embedder claims N tokens of context, so chunks are sized
 *                                for N whatever the model reads (needs the cache; the model cuts the tails)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import setup, { TEMPLATE_DB } from '../test/support/global-setup.js';
import { loadCovidQa, loadSciFact } from './datasets.js';
import { runEval } from './harness.js';
import { parseSweep } from './sweep.js';
import { formatReport } from './report.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'scifact' },
    queries: { type: 'string' },
    docs: { type: 'string' },
    'embedder-url': { type: 'string' },
    model: { type: 'string', default: 'all-MiniLM-L6-v2' },
    dim: { type: 'string', default: '384' },
    'document-prefix': { type: 'string', default: 'none' },
    'query-prefix': { type: 'string', default: 'none' },
    'chunk-tokens': { type: 'string' },
    'chunk-overlap': { type: 'string' },
    'qdrant-url': { type: 'string' },
    'datasets-dir': { type: 'string', default: resolve(import.meta.dirname, '../../shared/datasets') },
    'models-dir': { type: 'string' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    'cache-dir': { type: 'string', default: resolve(import.meta.dirname, '.cache') },
    'no-cache': { type: 'boolean', default: false },
    split: { type: 'string', default: 'test' },
    sweep: { type: 'string' },
    tuning: { type: 'string', default: '400' },
    light: { type: 'boolean', default: false },
    dump: { type: 'string' },
    'model-context': { type: 'string' },
  },
});

const subset = {
  ...(values.queries ? { queries: Number(values.queries) } : {}),
  ...(values.docs ? { documents: Number(values.docs) } : {}),
};
const dir = resolve(values['datasets-dir']);
const data =
  values.dataset === 'covid-qa'
    ? await loadCovidQa(dir, subset)
    : values.dataset === 'scifact'
      ? await loadSciFact(dir, subset, values.split === 'train' ? 'train' : 'test')
      : null;
if (!data) {
  console.error(`unknown --dataset ${values.dataset} (scifact or covid-qa)`);
  process.exit(2);
}
console.log(`${data.name}: ${data.documents.length} documents, ${data.queries.length} queries`);
const sweep = values.sweep ? parseSweep(values.sweep) : undefined;
// Tuning queries: SciFact's train claims whose cited abstracts are in this run's corpus.
const kept = new Set(data.documents.map((d) => d.id));
const tuning =
  (sweep || values.dump) && values.dataset === 'scifact' && values.split !== 'train'
    ? (await loadSciFact(dir, {}, 'train')).queries
        .filter((q) => q.relevant.every((r) => kept.has(r)))
        .slice(0, Number(values.tuning))
    : undefined;

// Postgres and S3 as the test suite gets them; a database of this run's own.
const provided: Record<string, string> = {};
const teardown = await setup({ provide: (k: string, v: string) => (provided[k] = v) } as never);
const adminUrl = provided.databaseAdminUrl!;
const dbName = `rattg_eval_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${TEMPLATE_DB}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const out = resolve(
  values.out ??
    `eval/reports/${data.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`,
);
const save = async (report: Awaited<ReturnType<typeof runEval>>) => {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
};
try {
  const report = await runEval(data, {
    ...(values['embedder-url'] ? { embedderUrl: values['embedder-url'] } : {}),
    ...(values['models-dir'] ? { modelsDir: resolve(values['models-dir']) } : {}),
    ...(values['qdrant-url'] ? { qdrantUrl: values['qdrant-url'] } : {}),
    onnxThreads: Number(values.threads),
    ...(values['no-cache'] ? {} : { cacheDir: resolve(values['cache-dir']) }),
    model: values.model,
    dimension: Number(values.dim),
    documentPrefix: values['document-prefix'],
    queryPrefix: values['query-prefix'],
    ...(values['chunk-tokens'] ? { chunkTokens: Number(values['chunk-tokens']) } : {}),
    ...(values['chunk-overlap'] ? { chunkOverlap: Number(values['chunk-overlap']) } : {}),
    ...(values['model-context'] ? { claimContext: Number(values['model-context']) } : {}),
    env: {
      DATABASE_URL: dbUrl.toString(),
      S3_ENDPOINT: provided.s3Endpoint!,
      MINIO_ROOT_USER: provided.s3AccessKey!,
      MINIO_ROOT_PASSWORD: provided.s3SecretKey!,
      S3_BUCKET: `eval-${randomBytes(4).toString('hex')}`,
      PIPELINES_DIR: resolve(import.meta.dirname, '../pipelines'),
    },
    log: (line) => console.log(line),
    ...(sweep ? { sweep } : {}),
    light: values.light,
    ...(tuning ? { tuning } : {}),
    onMainReport: async (main) => {
      console.log(formatReport(main));
      await save(main);
      console.log(`report before the sweep: ${out}`);
    },
    ...(values.dump ? { dump: resolve(values.dump) } : {}),
  });
  if (!values.dump) {
    console.log(formatReport(report));
    await save(report);
    console.log(`report: ${out}`);
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
  await admin.end();
  await teardown();
}
