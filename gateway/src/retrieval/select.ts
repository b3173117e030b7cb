/**
 * From ranked vector hits to passages: the hits of documents the access check confirmed, above the
 * score floor, `limit` passages (or `limit` documents, each with its other passages in `also`).
 * Pure; retrieve.ts runs it on Postgres's answer (and, to fetch windows early, on the guess that
 * every hit is confirmed).
 */
import type { SearchHit } from '@rattgllm/core';
import type { Passage } from './context.js';

/** Passages BM25 ranks this high pass the score floor whatever their cosine (see select). */
export const SPARSE_FLOOR_RANK = 3;

export interface SelectShape {
  limit: number;
  byDocument: boolean;
  /** Floor on the dense (cosine) score; 0: none. */
  floor: number;
  /** DOCUMENT_SCORE_NEXT_WEIGHT (rankDocuments); 0: a document ranks by its best passage. */
  documentNextWeight: number;
}

export interface Selection {
  passages: Passage[];
  /** Hits whose document the check did not confirm. */
  dropped: number;
  /** The index version of a selected passage's chunk (its window is of that version only). */
  versionOf: (p: Passage) => number | undefined;
}

export function select(
  hits: readonly SearchHit[],
  readable: (documentId: string) => { id: string; filename: string } | undefined,
  { limit, byDocument, floor, documentNextWeight }: SelectShape,
): Selection {
  let passages: Passage[] = [];
  const byDoc = new Map<string, Passage>();
  const versions = new WeakMap<Passage, number>();
  let dropped = 0;
  for (const h of hits) {
    const doc = readable(h.payload.document_id);
    if (!doc) {
      dropped++;
      continue;
    }
    // The floor is on meaning (cosine), but a passage BM25 ranks among its first few passes
    // too: an exact name or code that the vectors miss is what hybrid search is for.
    const strongSparse = h.sparseRank !== undefined && h.sparseRank < SPARSE_FLOOR_RANK;
    if (floor > 0 && !strongSparse && (h.denseScore === undefined || h.denseScore < floor)) continue;
    const passage: Passage = {
      documentId: doc.id,
      filename: doc.filename,
      chunkIndex: h.payload.chunk_index,
      text: h.payload.text,
      score: h.score,
      denseScore: h.denseScore ?? null,
      page: h.payload.page ?? null,
      pageEnd: h.payload.page_end ?? null,
      pageBreaks: h.payload.page_breaks ?? null,
      heading: h.payload.heading ?? null,
    };
    versions.set(passage, h.payload.version);
    if (byDocument) {
      const best = byDoc.get(doc.id);
      if (best) {
        (best.also ??= []).push(passage);
        continue;
      }
      // Ranked by several passages, a document found later may still pass one found earlier.
      if (passages.length >= limit && !(documentNextWeight > 0)) continue;
      byDoc.set(doc.id, passage);
    } else if (passages.length >= limit) break;
    passages.push(passage);
  }
  if (byDocument && documentNextWeight > 0)
    passages = rankDocuments(passages, documentNextWeight).slice(0, limit);
  return { passages, dropped, versionOf: (p) => versions.get(p) };
}

/**
 * Documents (best passage first, the others in `also`, each list in fused order) ordered by
 * best + w·second + w²·third + …: a long paper that matches in several places passes one that
 * matches once. Ties keep the order by best passage (a stable sort).
 */
export function rankDocuments(documents: readonly Passage[], w: number): Passage[] {
  const score = (p: Passage) => {
    let sum = p.score;
    let f = w;
    for (const a of p.also ?? []) {
      sum += f * a.score;
      f *= w;
    }
    return sum;
  };
  return documents
    .map((p, i) => ({ p, i, s: score(p) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.p);
}
