/**
 * A follow-up set derived from COVID-QA: pairs of questions on one paper, asked as a
 * conversation — the first names the paper's subject, the second has that subject replaced by a
 * pronoun ("How many nucleotides does bovine coronavirus contain?" → "How many nucleotides does
 * it contain?"). The subject is what the paper's title names and few other titles do.
 *
 * Measured: the right paper in the top 5 for the first question, the second as written in the
 * dataset, the pronoun follow-up searched alone, and the follow-up as the chat route builds its
 * query from the conversation (gateway/src/retrieval/condense.ts).
 */
import { ENGLISH_STOPWORDS } from '@rattgllm/core';
import { condenseByRules } from '../gateway/src/retrieval/condense.js';
import type { Dataset, EvalQuery } from './datasets.js';

export interface FollowUpPair {
  document: string;
  first: EvalQuery;
  /** The second question as the dataset has it. */
  original: EvalQuery;
  /** The second question with the subject replaced by "it" / "its". */
  followUp: string;
}

/** Pairs per paper at most, so a few long papers do not make the set. */
const MAX_PAIRS_PER_PAPER = 5;
/** A title word found in at most this share of all titles names the paper's subject. */
const SPECIFIC_SHARE = 0.05;
/** Small words allowed inside a subject ("mother-to-child transmission of HIV-1"). */
const JOINERS = new Set(['of', 'the', 'to', 'in', 'and', 'for', 'on']);

const TOKEN = /[\p{L}\p{N}][\p{L}\p{N}-]*/gu;
const norm = (w: string) => w.toLowerCase();
const titleWords = (title: string) =>
  new Set([...title.matchAll(TOKEN)].map((m) => norm(m[0])).filter((w) => !ENGLISH_STOPWORDS.has(w)));

/** The question with its subject (runs of title words holding a specific one) as a pronoun; null: none. */
export function pronounFor(
  question: string,
  title: Set<string>,
  specific: Map<string, number>,
): string | null {
  const tokens = [...question.matchAll(TOKEN)].map((m) => ({
    word: norm(m[0]),
    start: m.index,
    end: m.index + m[0].length,
  }));
  const runs: { start: number; end: number; rarest: number }[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (!title.has(tokens[i]!.word)) {
      i++;
      continue;
    }
    let j = i;
    let last = i;
    const dfOf = (w: string) => specific.get(w) ?? Infinity;
    let rarest = dfOf(tokens[i]!.word);
    // Extend over title words, and over joiners when a title word follows them.
    while (j + 1 < tokens.length) {
      const next = tokens[j + 1]!.word;
      if (title.has(next)) {
        j++;
        last = j;
        rarest = Math.min(rarest, dfOf(next));
      } else if (JOINERS.has(next)) j++;
      else break;
    }
    // A leading article goes with the subject ("the bovine coronavirus" → "it").
    const prev = tokens[i - 1];
    const start =
      prev?.word === 'the' && question.slice(prev.end, tokens[i]!.start) === ' '
        ? prev.start
        : tokens[i]!.start;
    if (rarest < Infinity) runs.push({ start, end: tokens[last]!.end, rarest });
    i = last + 1;
  }
  // The subject is the run with the rarest title word (the first of equals); one pronoun.
  const r = runs.reduce<(typeof runs)[number] | undefined>(
    (b, x) => (!b || x.rarest < b.rarest ? x : b),
    undefined,
  );
  if (!r) return null;
  const possessive = /^['’]s\b/.test(question.slice(r.end));
  const out =
    question.slice(0, r.start) + (possessive ? 'its' : 'it') + question.slice(r.end + (possessive ? 2 : 0));
  return out.replace(/\s{2,}/g, ' ').trim();
}

/** Pairs from a COVID-QA dataset (documents' first line is the paper's title). */
export function followUpPairs(data: Dataset): FollowUpPair[] {
  const titles = new Map(data.documents.map((d) => [d.id, titleWords(d.content.split('\n', 1)[0] ?? '')]));
  const df = new Map<string, number>();
  for (const ws of titles.values()) for (const w of ws) df.set(w, (df.get(w) ?? 0) + 1);
  const limit = Math.max(1, Math.floor(titles.size * SPECIFIC_SHARE));
  const byDoc = new Map<string, EvalQuery[]>();
  for (const q of data.queries) {
    const d = q.relevant[0]!;
    if (!byDoc.has(d)) byDoc.set(d, []);
    byDoc.get(d)!.push(q);
  }
  const pairs: FollowUpPair[] = [];
  for (const [document, qs] of byDoc) {
    const title = titles.get(document);
    if (!title) continue;
    const specific = new Map([...title].filter((w) => (df.get(w) ?? 0) <= limit).map((w) => [w, df.get(w)!]));
    const names = (q: EvalQuery) => [...q.text.matchAll(TOKEN)].some((m) => specific.has(norm(m[0])));
    let count = 0;
    for (let i = 0; i + 1 < qs.length && count < MAX_PAIRS_PER_PAPER; i++) {
      if (!names(qs[i]!)) continue;
      const j = qs.findIndex((q, k) => k > i && pronounFor(q.text, title, specific) !== null);
      if (j < 0) break;
      pairs.push({
        document,
        first: qs[i]!,
        original: qs[j]!,
        followUp: pronounFor(qs[j]!.text, title, specific)!,
      });
      count++;
      i = j;
    }
  }
  return pairs;
}

export interface FollowUpFigures {
  pairs: number;
  /** Right paper in the top 5 (`/search`, one entry per document). */
  first: number;
  original: number;
  followUpAlone: number;
  condensed: number;
  /** The original second question through the condensation (the cost of a false "refers back"). */
  originalCondensed: number;
  /** condensed / first: the share of the first question's rate the follow-up recovers. */
  recovered: number;
  examples: { first: string; followUp: string; condensed: string }[];
}

/** Right-paper rate at 5 for each variant; `topDocs` answers the top documents of a query. */
export async function scoreFollowUps(
  pairs: FollowUpPair[],
  topDocs: (query: string) => Promise<string[]>,
): Promise<FollowUpFigures> {
  const hits = { first: 0, original: 0, followUpAlone: 0, condensed: 0, originalCondensed: 0 };
  const examples: FollowUpFigures['examples'] = [];
  const at5 = async (query: string, doc: string) => (await topDocs(query)).slice(0, 5).includes(doc);
  for (const p of pairs) {
    // The conversation as chat sends it: the first question, an answer, the follow-up.
    const conversation = (last: string) => [
      { role: 'user', content: p.first.text },
      { role: 'assistant', content: p.first.answers?.[0] ?? '' },
      { role: 'user', content: last },
    ];
    const condensed = condenseByRules(conversation(p.followUp));
    if (await at5(p.first.text, p.document)) hits.first++;
    if (await at5(p.original.text, p.document)) hits.original++;
    if (await at5(p.followUp, p.document)) hits.followUpAlone++;
    if (await at5(condensed, p.document)) hits.condensed++;
    if (await at5(condenseByRules(conversation(p.original.text)), p.document)) hits.originalCondensed++;
    if (examples.length < 5) examples.push({ first: p.first.text, followUp: p.followUp, condensed });
  }
  const n = pairs.length || 1;
  const rate = (k: keyof typeof hits) => hits[k] / n;
  return {
    pairs: pairs.length,
    first: rate('first'),
    original: rate('original'),
    followUpAlone: rate('followUpAlone'),
    condensed: rate('condensed'),
    originalCondensed: rate('originalCondensed'),
    recovered: hits.first ? hits.condensed / hits.first : 0,
    examples,
  };
}
