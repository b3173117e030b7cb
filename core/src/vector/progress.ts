import type { Knex } from 'knex';
import { listGenerations } from './generations.js';

/**
 * How far a generation's re-embedding has come: the indexed documents it holds at their current
 * version (`index_generation_documents`), what it still lacks, and the admin's status line.
 */
/** Documents a generation must hold (those indexed now), and how many it holds at their current version. */
export async function generationProgress(
  db: Knex,
  collection: string,
): Promise<{ done: number; total: number }> {
  const row = (await db('documents as d')
    .leftJoin('index_generation_documents as g', function () {
      this.on('g.document_id', 'd.id').andOnVal('g.collection', collection).andOn('g.version', 'd.version');
    })
    .where('d.status', 'indexed')
    .select(db.raw('count(*)::int as total, count(g.document_id)::int as done'))
    .first()) as { total: number; done: number };
  return { done: row.done, total: row.total };
}

/** Up to `limit` indexed documents the generation lacks, or holds at an older version. */
export async function documentsToEmbed(db: Knex, collection: string, limit: number): Promise<string[]> {
  const rows = (await db('documents as d')
    .leftJoin('index_generation_documents as g', function () {
      this.on('g.document_id', 'd.id').andOnVal('g.collection', collection);
    })
    .where('d.status', 'indexed')
    .andWhere((w) => w.whereNull('g.document_id').orWhereRaw('g.version <> d.version'))
    .orderBy('d.id')
    .limit(limit)
    .select('d.id')) as { id: string }[];
  return rows.map((r) => r.id);
}

export async function recordEmbedded(
  db: Knex,
  row: { collection: string; documentId: string; version: number; chunkCount: number; signature: string },
): Promise<void> {
  await db('index_generation_documents')
    .insert({
      collection: row.collection,
      document_id: row.documentId,
      version: row.version,
      chunk_count: row.chunkCount,
      signature: row.signature,
    })
    .onConflict(['collection', 'document_id'])
    .merge({
      version: row.version,
      chunk_count: row.chunkCount,
      signature: row.signature,
      updated_at: db.fn.now(),
    });
}

/**
 * One line for the admin's System status while a re-embedding runs or waits for the switch
 * (undefined otherwise): which model, how far, and what search uses meanwhile.
 */
export async function rebuildSummary(db: Knex, alias: string): Promise<string | undefined> {
  const gens = await listGenerations(db, alias);
  const active = gens.find((g) => g.state === 'active');
  const shadow = gens.find((g) => g.state === 'building' || g.state === 'ready');
  if (!shadow) return undefined;
  const { done, total } = await generationProgress(db, shadow.collection);
  const serving = active ? `; search uses ${active.model} until ` : '; ';
  return shadow.state === 'ready' && done >= total
    ? `re-embedded with ${shadow.model} (${done} of ${total} documents)${serving}an admin switches`
    : `re-embedding with ${shadow.model}: ${done} of ${total} documents${serving}it is complete`;
}
