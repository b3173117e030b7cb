/**
 * The stand-in's "embedding model": deterministic and lexical, so tests can reason about ranking.
 * A text becomes a hashed bag of its BM25 stems (weight 1) and their character trigrams
 * (weight 0.3, so "invoice" and "invoices" still meet), signed by a second hash bit to keep
 * collisions unbiased, then L2-normalised like nomic-embed-text's output. Cosine similarity then
 * grows with shared vocabulary: a passage about the query's words ranks first.
 */
import { bm25Tokens } from '@rattgllm/core';

/** nomic-embed-text's task prefixes carry no content; real embeddings learn to ignore them too. */
const TASK_PREFIX = /^(search_document|search_query|clustering|classification):\s*/;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function lexicalEmbedding(text: string, dimension: number): number[] {
  const v = new Float64Array(dimension);
  const add = (feature: string, weight: number) => {
    const h = fnv1a(feature);
    v[h % dimension]! += h & 0x80000000 ? -weight : weight;
  };
  for (const stem of bm25Tokens(text.replace(TASK_PREFIX, ''))) {
    add(`w:${stem}`, 1);
    const padded = `^${stem}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.3);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  // An empty text still gets a valid unit vector (Ollama never returns zeros for "").
  if (norm === 0) {
    v[0] = 1;
    norm = 1;
  }
  return Array.from(v, (x) => x / norm);
}

/** A cheap bag of lower-cased words, L2-normalised (benchmarks: see OllamaStandinOptions.vectors). */
export function fastEmbedding(text: string, dimension: number): number[] {
  const v = new Float64Array(dimension);
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!word) continue;
    const h = fnv1a(word);
    v[h % dimension]! += h & 0x80000000 ? -1 : 1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  if (norm === 1 && v.every((x) => x === 0)) v[0] = 1;
  return Array.from(v, (x) => x / norm);
}
