import { isLive, recordEmbedded, rowPrincipals, type ReembedJob } from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';
import { getDocument } from '../store.js';
import { indexSignature } from '../pipeline/signature.js';
import { readStage } from '../pipeline/stages/read.js';
import { parseStage } from '../pipeline/stages/parse.js';
import { chunkStage } from '../pipeline/stages/chunk.js';
import { embedStage } from '../pipeline/stages/embed.js';
import { indexStage } from '../pipeline/stages/index-points.js';

/**
 * A `reembed` job: the ingest stages (read → parse → chunk → embed → index) with the shadow
 * generation's deps — its model, chunk size and collection — at the version the active index
 * holds. The document row (status, chunks, version) is the active generation's and stays
 * untouched; what the shadow holds is recorded in `index_generation_documents`, so a restart
 * resumes where it stopped and a document changed meanwhile is embedded again.
 */
export async function reembedJob(
  deps: IngestorDeps,
  job: ReembedJob,
  signal: AbortSignal,
): Promise<'done' | 'skipped'> {
  const gen = deps.generations?.depsFor(job.collection);
  const building = deps.generations?.building();
  // The shadow was switched to, dropped, or the configuration moved on: nothing to do.
  if (!gen || !building || building.generation.collection !== job.collection) return 'skipped';
  const { db, log } = gen;
  const ctx = { signal, log };
  const doc = await getDocument(db, job.documentId);
  if (!doc || doc.status !== 'indexed') return 'skipped';
  // A job queued while an earlier one for this document ran (one queued + one active per
  // document): that one already did the work.
  const held = await db('index_generation_documents')
    .where({ collection: job.collection, document_id: doc.id, version: doc.version })
    .first('document_id');
  if (held) return 'skipped';

  const data = await readStage(gen)({ storageKey: doc.storage_key }, ctx);
  const parsed = await parseStage(gen)({ data, filename: doc.filename, mime: doc.mime }, ctx);
  const chunks = await chunkStage(gen)(parsed, ctx);
  const embedded = await embedStage(gen)({ documentId: doc.id, chunks, progress: false }, ctx);
  await indexStage(gen)({ doc, version: doc.version, chunks, embedded }, ctx);

  // The row may have changed while we embedded: deleted (its delete reached the shadow before
  // our write), re-shared (the new principals must win), or re-indexed (embed again later).
  const now = await getDocument(db, doc.id);
  if (!isLive(now)) {
    await gen.index.deleteDocument(doc.id);
    return 'skipped';
  }
  if (now.access !== doc.access || now.owner_id !== doc.owner_id)
    await gen.index.setPrincipals(doc.id, rowPrincipals(now));
  if (now.version !== doc.version) return 'skipped';
  await recordEmbedded(db, {
    collection: job.collection,
    documentId: doc.id,
    version: doc.version,
    chunkCount: chunks.length,
    signature: indexSignature(gen),
  });
  return 'done';
}
