import { bm25Tokens, recordEmbedded, type ReembedJob } from '@rattgllm/core';
import type { DocumentRecord, IngestorDeps } from '../deps.js';
import { parseDocument } from '../pipeline/parse/index.js';
import { chunkDocument } from '../pipeline/chunk.js';
import { chunkPoints, embedText } from '../pipeline/points.js';
import { chunkTarget, corpusBm25Length, indexSignature, principalsFor, readObject } from '../jobs/ingest.js';

/**
 * A `reembed` job: parse → chunk → embed one document with the shadow generation's model and
 * write its points into the shadow collection, at the version the active index holds. The
 * document row (status, chunks, version) is the active generation's and stays untouched; what
 * the shadow holds is recorded in `index_generation_documents`, so a restart resumes where it
 * stopped and a document changed meanwhile is embedded again.
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
  const doc = await db<DocumentRecord>('documents').where({ id: job.documentId }).first();
  if (!doc || doc.status !== 'indexed') return 'skipped';
  // A job queued while an earlier one for this document ran (one queued + one active per
  // document): that one already did the work.
  const held = await db('index_generation_documents')
    .where({ collection: job.collection, document_id: doc.id, version: doc.version })
    .first('document_id');
  if (held) return 'skipped';

  const data = await readObject(gen, doc.storage_key, signal);
  const parsed = await parseDocument(
    { data, filename: doc.filename, mime: doc.mime },
    { signal, log, limits: { maxBytes: gen.config.MAX_UPLOAD_MB * 1024 * 1024 }, docling: gen.docling },
  );
  const chunks = await chunkDocument(
    parsed,
    { targetTokens: chunkTarget(gen), overlap: gen.config.CHUNK_OVERLAP },
    { signal, log },
  );
  const texts = chunks.map(embedText);
  const dense = await gen.embedBatcher.embedTexts(texts, { signal });
  const avgLength = await corpusBm25Length(
    db,
    texts.map((t) => bm25Tokens(t).length),
  );
  const points = chunkPoints(chunks, dense, texts, avgLength);
  await gen.index.upsertChunks(doc.id, doc.version, points, {
    filename: doc.filename,
    principals: principalsFor(doc),
    tags: doc.tags,
  });

  // The row may have changed while we embedded: deleted (its delete reached the shadow before
  // our write), re-shared (the new principals must win), or re-indexed (embed again later).
  const now = await db<DocumentRecord>('documents').where({ id: doc.id }).first();
  if (!now || now.status === 'deleted') {
    await gen.index.deleteDocument(doc.id);
    return 'skipped';
  }
  if (now.access !== doc.access || now.owner_id !== doc.owner_id)
    await gen.index.setPrincipals(doc.id, principalsFor(now));
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
