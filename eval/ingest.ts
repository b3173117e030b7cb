/** An evaluation's ingest: the dataset written into the drop folder, the real ingestor run until all are indexed. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@rattgllm/core';
import { startIngestor } from '../ingestor/src/main.js';
import type { Dataset } from './datasets.js';

export type Ingestor = Awaited<ReturnType<typeof startIngestor>>;

/** Returns the running ingestor (its stop is pushed onto `cleanups`), the time taken and the chunks made. */
export async function ingestDataset(
  data: Dataset,
  config: Config,
  drop: string,
  cleanups: (() => Promise<unknown>)[],
  log: (line: string) => void,
): Promise<{ ingestor: Ingestor; ingestSeconds: number; chunks: number }> {
  const t0 = performance.now();
  for (const d of data.documents) {
    await mkdir(join(drop, 'shared'), { recursive: true });
    await writeFile(join(drop, 'shared', d.filename), d.content);
  }
  const ingestor = await startIngestor(config, { renameGraceMs: 200, stabilityMs: 100 });
  cleanups.push(() => ingestor.stop());
  const db = ingestor.deps.db;
  let lastLog = 0;
  for (;;) {
    const r = (await db('documents')
      .select(
        db.raw(
          `count(*) filter (where status in ('indexed','failed'))::int as done, count(*) filter (where status = 'failed')::int as failed, coalesce(sum(chunk_count),0)::int as chunks`,
        ),
      )
      .first()) as { done: number; failed: number; chunks: number };
    if (r.done >= data.documents.length) {
      if (r.failed > 0) throw new Error(`${r.failed} documents failed to ingest`);
      break;
    }
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(`  ingested ${r.done}/${data.documents.length} documents, ${r.chunks} chunks`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  const chunks = Number((await db('chunks').count({ n: '*' }).first())!.n);
  log(`  ingested ${data.documents.length} documents, ${chunks} chunks in ${ingestSeconds.toFixed(0)} s`);
  return { ingestor, ingestSeconds, chunks };
}
