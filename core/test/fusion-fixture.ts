/** What the fusion tests share: indexing lexical documents, and the convex score they expect. */
import { encodeDocument, type SearchHit, type VectorIndex } from '@rattgllm/core';
import { lexicalEmbedding } from '../../test/standins/index.js';

/** Each document's passages, with lexical dense vectors and BM25 sparse ones, readable by `org`. */
export async function indexLexical(vi: VectorIndex, docs: Record<string, string[]>, dim: number) {
  await vi.ensureCollection();
  for (const [doc, texts] of Object.entries(docs))
    await vi.upsertChunks(
      doc,
      1,
      texts.map((text, i) => ({
        index: i,
        text,
        dense: lexicalEmbedding(text, dim),
        sparse: encodeDocument(text),
      })),
      { filename: `${doc.slice(-2)}.txt`, principals: ['org'] },
    );
}

/**
 * The convex (TM2C2) score of each hit for α, from the dense and the sparse list alone: cosine
 * scaled from −1 to the best cosine, BM25 from 0 to the best BM25 score. Also returns the scaled
 * lists, for the grouped checks.
 */
export function convexScores(dense: SearchHit[], sparse: SearchHit[]) {
  const dTop = Math.max(...dense.map((h) => h.score));
  const sTop = Math.max(...sparse.map((h) => h.score));
  const d = new Map(dense.map((h) => [h.id, (h.score + 1) / (dTop + 1)]));
  const s = new Map(sparse.map((h) => [h.id, h.score / sTop]));
  const dLast = Math.min(...d.values());
  const expected = (id: string, alpha: number) =>
    alpha * (d.get(id) ?? dLast) + (1 - alpha) * (s.get(id) ?? 0);
  return { d, s, dLast, expected };
}
