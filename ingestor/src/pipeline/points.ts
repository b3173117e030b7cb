import { encodeDocument, type ChunkPoint } from '@rattgllm/core';
import type { Chunk } from './types.js';

/**
 * What is embedded for a passage: its heading path, then its text ("Install > On Linux" says what
 * a bare "Run the script." is about). The stored text stays the passage itself.
 */
export function embedText(chunk: Pick<Chunk, 'heading' | 'text'>): string {
  return chunk.heading ? `${chunk.heading}\n\n${chunk.text}` : chunk.text;
}

/** The index points of a document's chunks: dense vectors in order, BM25 over the embedded text. */
export function chunkPoints(
  chunks: readonly Chunk[],
  dense: readonly number[][],
  texts: readonly string[],
  avgLength: number,
): ChunkPoint[] {
  return chunks.map((c, i) => ({
    index: c.index,
    text: c.text,
    page: c.page ?? null,
    pageEnd: c.pageEnd ?? null,
    heading: c.heading || null,
    dense: dense[i]!,
    sparse: encodeDocument(texts[i]!, avgLength),
  }));
}
