/**
 * `npm run eval -- --sweep '…'`: retrieval settings compared on one ingested index. Each variant
 * is a gateway built with other settings (RRF_K, HYBRID_DENSE_WEIGHT, …) plus the chat path's
 * topK / minScore, run over the test queries and a tuning set (SciFact's train claims), so a
 * setting is chosen on the tuning figures and reported on the test ones.
 *
 *   --sweep 'RRF_K=2|RRF_K=60|RRF_K=20,HYBRID_DENSE_WEIGHT=1.5,topK=8'
 */
import { principalsOf, type Config } from '@rattgllm/core';
import { buildApp } from '../gateway/src/build.js';
import type { EvalQuery } from './datasets.js';
import { firstAppearance, mean, ndcgAt, normalise, recallAt } from './metrics.js';

export interface Variant {
  label: string;
  config: Record<string, string>;
  topK?: number;
  minScore?: number;
}

export interface VariantFigures {
  label: string;
  /** Per query set ("test", "tuning"): /search nDCG@10 and R@10, chat path nDCG@10. */
  sets: Record<
    string,
    {
      searchNdcg10: number;
      searchRecall10: number;
      chatNdcg10: number;
      queries: number;
      /** COVID-QA: the right paper in /search's top 5, an answer in the top 5 passages. */
      paperAt5?: number;
      answerAt5?: number;
    }
  >;
}

/** `K=V,K=V|K=V` → variants; `topK` and `minScore` set the chat path, the rest the configuration. */
export function parseSweep(spec: string): Variant[] {
  return spec
    .split('|')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((label) => {
      const variant: Variant = { label, config: {} };
      for (const pair of label.split(',')) {
        const [key, value] = pair.split('=').map((x) => x.trim());
        if (!key || value === undefined) throw new Error(`--sweep: "${pair}" is not KEY=VALUE`);
        if (key === 'topK') variant.topK = Number(value);
        else if (key === 'minScore') variant.minScore = Number(value);
        else variant.config[key] = value;
      }
      return variant;
    });
}

/** The seeded admin as retrieval sees them: an evaluation reads every document. */
export async function adminIdentity(app: Awaited<ReturnType<typeof buildApp>>) {
  const admin = (await app.db('users').where({ username: 'admin' }).first()) as {
    id: string;
    roles: string[];
    groups: string[];
  };
  const principal = { id: admin.id, roles: admin.roles, groups: admin.groups };
  return { principal, principals: principalsOf(principal), label: 'eval' };
}

export async function runSweep(
  env: Record<string, string>,
  parse: (env: Record<string, string>) => Config,
  variants: Variant[],
  sets: Record<string, EvalQuery[]>,
  chat: { topK: number; minScore: number },
  log: (line: string) => void,
): Promise<VariantFigures[]> {
  const out: VariantFigures[] = [];
  const stem = (filename: string) => filename.replace(/\.[^.]+$/, '');
  for (const v of variants) {
    const app = await buildApp(parse({ ...env, ...v.config }));
    try {
      const identity = await adminIdentity(app);
      const figures: VariantFigures = { label: v.label, sets: {} };
      for (const [name, queries] of Object.entries(sets)) {
        const search: number[] = [];
        const recall: number[] = [];
        const chatNdcg: number[] = [];
        const paper: number[] = [];
        const answer: number[] = [];
        for (const q of queries) {
          const relevant = new Set(q.relevant);
          const served = await app.rag.retrieve({ identity, query: q.text, limit: 10, group: 'document' });
          const docs = firstAppearance(served.passages.map((p) => stem(p.filename)));
          search.push(ndcgAt(docs, relevant, 10));
          recall.push(recallAt(docs, relevant, 10));
          const c = await app.rag.retrieve({
            identity,
            query: q.text,
            limit: v.topK ?? chat.topK,
            minScore: v.minScore ?? chat.minScore,
          });
          chatNdcg.push(ndcgAt(firstAppearance(c.passages.map((p) => stem(p.filename))), relevant, 10));
          if (q.answers?.length) {
            paper.push(docs.slice(0, 5).some((d) => relevant.has(d)) ? 1 : 0);
            const flat = await app.rag.retrieve({ identity, query: q.text, limit: 5, group: 'passage' });
            const answers = q.answers.map(normalise);
            const found = flat.passages.some(
              (p) => relevant.has(stem(p.filename)) && answers.some((a) => normalise(p.text).includes(a)),
            );
            answer.push(found ? 1 : 0);
          }
        }
        figures.sets[name] = {
          searchNdcg10: mean(search),
          searchRecall10: mean(recall),
          chatNdcg10: mean(chatNdcg),
          queries: queries.length,
          ...(paper.length ? { paperAt5: mean(paper), answerAt5: mean(answer) } : {}),
        };
      }
      log(
        `  sweep ${v.label}: ` +
          Object.entries(figures.sets)
            .map(
              ([n, f]) =>
                `${n} /search ${f.searchNdcg10.toFixed(3)} (R@10 ${f.searchRecall10.toFixed(3)}) chat ${f.chatNdcg10.toFixed(3)}` +
                (f.paperAt5 !== undefined
                  ? ` paper@5 ${(f.paperAt5 * 100).toFixed(1)} % answer@5 ${(f.answerAt5! * 100).toFixed(1)} %`
                  : ''),
            )
            .join(' · '),
      );
      out.push(figures);
    } finally {
      await app.close();
    }
  }
  return out;
}
