/**
 * Every query of a dataset through the gateway's retrieval, in the ways the report compares:
 * /search as served, the chat path, per-passage search, and (unless light) the limit-100 lists of
 * each mode and the chat path with the floor on cosine alone; COVID-QA's paper and answer rates
 * and its follow-up set.
 */
import type { RetrieveInput } from '../gateway/src/retrieval/retrieve.js';
import { selectPassages, type Passage } from '../gateway/src/retrieval/context.js';
import type { Dataset } from './datasets.js';
import { followUpPairs, scoreFollowUps, type FollowUpFigures } from './followups.js';
import {
  finishQa,
  firstAppearance,
  mean,
  mrrAt,
  ndcgAt,
  newQa,
  recallAt,
  scoreQa,
  type QaFigures,
} from './metrics.js';
import type { EvalReport } from './harness.js';

type Mode = 'hybrid' | 'dense' | 'sparse';

export type EvalRetrieve = (input: Omit<RetrieveInput, 'identity'>) => Promise<Passage[]>;

export interface QueryFigures {
  modes: EvalReport['modes'];
  qa?: { search: QaFigures; chat: QaFigures };
  followUps?: FollowUpFigures;
}

export async function runQueries(
  data: Dataset,
  retrieve: EvalRetrieve,
  /** The pipeline's retrieval settings; `maxContextTokens`: the passages the prompt holds (selectPassages). */
  chatPath: { topK: number; minScore: number; maxContextTokens?: number },
  light: boolean,
  log: (line: string) => void,
  /** `followUps: false`: without the COVID-QA follow-up set (a sweep's variants). */
  options: { followUps?: boolean } = {},
): Promise<QueryFigures> {
  const { topK, minScore, maxContextTokens } = chatPath;
  const stem = (filename: string) => filename.replace(/\.[^.]+$/, '');
  const perMode: Record<
    string,
    { ndcg10: number[]; recall10: number[]; recall100: number[]; mrr10: number[] }
  > = {};
  const add = (mode: string, ranked: string[], deep: string[], relevant: Set<string>) => {
    const m = (perMode[mode] ??= { ndcg10: [], recall10: [], recall100: [], mrr10: [] });
    m.ndcg10.push(ndcgAt(ranked, relevant, 10));
    m.recall10.push(recallAt(ranked, relevant, 10));
    m.recall100.push(recallAt(deep, relevant, 100));
    m.mrr10.push(mrrAt(ranked, relevant, 10));
  };
  let fewerThan10 = 0;
  const qa = { search: newQa(), chat: newQa() };
  let done = 0;
  for (const q of data.queries) {
    const relevant = new Set(q.relevant);
    // /search as served (one entry per document) with limit 10, and limit 100 for Recall@100.
    const served = await retrieve({ query: q.text, limit: 10, group: 'document' });
    // --light: /search, chat and the passages COVID-QA's answers need; no limit-100 lists.
    const deep = light ? served : await retrieve({ query: q.text, limit: 100, group: 'document' });
    const servedDocs = firstAppearance(served.map((p) => stem(p.filename)));
    if (servedDocs.length < 10) fewerThan10++;
    add('search', servedDocs, firstAppearance(deep.map((p) => stem(p.filename))), relevant);
    for (const mode of light ? [] : (['hybrid', 'dense', 'sparse'] as Mode[])) {
      const ps =
        mode === 'hybrid' ? deep : await retrieve({ query: q.text, limit: 100, mode, group: 'document' });
      const docs = firstAppearance(ps.map((p) => stem(p.filename)));
      add(mode, docs, docs, relevant);
    }
    // What the chat model is shown: within the context budget a window may fall back to its
    // chunk, and the passages are numbered by document.
    const ranked = await retrieve({ query: q.text, limit: topK, minScore });
    const chat = maxContextTokens === undefined ? ranked : selectPassages(ranked, maxContextTokens);
    const chatDocs = firstAppearance(chat.map((p) => stem(p.filename)));
    add('chat', chatDocs, chatDocs, relevant);
    // Ablations on the same index (no re-ingest): /search one entry per passage (its shape
    // before grouping), and the chat path with the floor on cosine alone (before BM25 hits kept).
    const flat = await retrieve({ query: q.text, limit: 10, group: 'passage' });
    const flatDocs = firstAppearance(flat.map((p) => stem(p.filename)));
    add('searchPassages', flatDocs, flatDocs, relevant);
    if (!light) {
      const unfloored = await retrieve({ query: q.text, limit: topK * 2 });
      const cosineOnly = unfloored
        .filter((p) => p.denseScore !== null && p.denseScore >= minScore)
        .slice(0, topK);
      const cosineDocs = firstAppearance(cosineOnly.map((p) => stem(p.filename)));
      add('chatCosineFloor', cosineDocs, cosineDocs, relevant);
    }
    if (q.answers?.length) {
      // The right paper among /search's documents; the answer among its passages as ranked
      // (group "passage", as chat sees them), so one document's best passage is not all that counts.
      scoreQa(qa.search, served, relevant, q.answers, stem, flat);
      scoreQa(qa.chat, chat, relevant, q.answers, stem);
    }
    if (++done % 50 === 0) log(`  ${done}/${data.queries.length} queries`);
  }
  const pairs =
    options.followUps !== false && data.queries.some((q) => q.answers?.length) ? followUpPairs(data) : [];
  const followUps = pairs.length
    ? await scoreFollowUps(pairs, async (query) =>
        firstAppearance(
          (await retrieve({ query, limit: 10, group: 'document' })).map((p) => stem(p.filename)),
        ),
      )
    : undefined;
  const modes = Object.fromEntries(
    Object.entries(perMode).map(([k, v]) => [
      k,
      {
        ndcg10: mean(v.ndcg10),
        recall10: mean(v.recall10),
        recall100: mean(v.recall100),
        mrr10: mean(v.mrr10),
        ...(k === 'search' ? { fewerThan10Docs: fewerThan10 } : {}),
      },
    ]),
  ) as EvalReport['modes'];
  const n = data.queries.length;
  const hasQa = data.queries.some((q) => q.answers?.length);
  return {
    modes,
    ...(hasQa ? { qa: { search: finishQa(qa.search, n), chat: finishQa(qa.chat, n) } } : {}),
    ...(followUps ? { followUps } : {}),
  };
}
