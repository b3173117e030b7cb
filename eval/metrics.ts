/**
 * Ranking metrics over document ids, as BEIR computes them (binary relevance): nDCG@k with the
 * log2 discount, Recall@k, MRR@k; and COVID-QA's "answer text in a passage" rate.
 */

// nDCG@k and Recall@k are core's (the admin comparison of index generations uses them too).
export { ndcgAt, recallAt } from '@rattgllm/core';

export function mrrAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  const i = ranked.slice(0, k).findIndex((id) => relevant.has(id));
  return i < 0 ? 0 : 1 / (i + 1);
}

/** Whitespace- and case-insensitive containment, so a line break inside a passage still matches. */
export function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Unique ids in order of first appearance: the document ranking a list of passages gives. */
export function firstAppearance(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** COVID-QA: the right paper, and a passage of it containing the answer text, within 1/5/10. */
export interface QaFigures {
  paperAt1: number;
  paperAt5: number;
  paperAt10: number;
  answerAt1: number;
  answerAt5: number;
  answerAt10: number;
}

export function newQa(): QaFigures {
  return { paperAt1: 0, paperAt5: 0, paperAt10: 0, answerAt1: 0, answerAt5: 0, answerAt10: 0 };
}

export function scoreQa(
  acc: QaFigures,
  passages: { filename: string; text: string }[],
  relevant: Set<string>,
  answers: string[],
  stem: (f: string) => string,
  /** Where to look for the answer, when not in `passages` (a document list's passage view). */
  answerPassages: { filename: string; text: string }[] = passages,
): void {
  const docs = firstAppearance(passages.map((p) => stem(p.filename)));
  const wanted = answers.map(normalise);
  const answerRank = answerPassages.findIndex((p) => {
    const text = normalise(p.text);
    return relevant.has(stem(p.filename)) && wanted.some((a) => text.includes(a));
  });
  const paperRank = docs.findIndex((d) => relevant.has(d));
  for (const k of [1, 5, 10] as const) {
    if (paperRank >= 0 && paperRank < k) acc[`paperAt${k}`]++;
    if (answerRank >= 0 && answerRank < k) acc[`answerAt${k}`]++;
  }
}

export function finishQa(acc: QaFigures, n: number): QaFigures {
  return Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, n ? v / n : 0])) as unknown as QaFigures;
}
