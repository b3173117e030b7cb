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
import type { QaFigures } from './metrics.js';
import { runQueries } from './queries.js';

export interface Variant {
  label: string;
  config: Record<string, string>;
  topK?: number;
  minScore?: number;
  maxContextTokens?: number;
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
      /** COVID-QA: the right paper in /search's top 5, an answer in the top 5 passages (as the main run). */
      paperAt5?: number;
      answerAt5?: number;
      /** COVID-QA: all the main run's paper and answer rates, /search and chat. */
      qa?: { search: QaFigures; chat: QaFigures };
    }
  >;
}

/** `K=V,K=V|K=V` → variants; `topK`, `minScore`, `maxContextTokens` set the chat path, the rest the configuration. */
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
        else if (key === 'maxContextTokens') variant.maxContextTokens = Number(value);
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

/**
 * Each variant over each query set, measured as the main run measures (queries.ts, light: /search,
 * the chat path and per-passage search), so a variant's figures compare with the main ones.
 */
export async function runSweep(
  env: Record<string, string>,
  parse: (env: Record<string, string>) => Config,
  variants: Variant[],
  sets: Record<string, EvalQuery[]>,
  chat: { topK: number; minScore: number; maxContextTokens?: number },
  log: (line: string) => void,
): Promise<VariantFigures[]> {
  const out: VariantFigures[] = [];
  for (const v of variants) {
    const app = await buildApp(parse({ ...env, ...v.config }));
    try {
      const identity = await adminIdentity(app);
      const figures: VariantFigures = { label: v.label, sets: {} };
      const chatPath = {
        topK: v.topK ?? chat.topK,
        minScore: v.minScore ?? chat.minScore,
        ...((v.maxContextTokens ?? chat.maxContextTokens) !== undefined
          ? { maxContextTokens: v.maxContextTokens ?? chat.maxContextTokens }
          : {}),
      };
      for (const [name, queries] of Object.entries(sets)) {
        const r = await runQueries(
          { name, documents: [], queries },
          (input) => app.rag.retrieve({ identity, ...input }).then((x) => x.passages),
          chatPath,
          true,
          () => {},
          { followUps: false },
        );
        figures.sets[name] = {
          searchNdcg10: r.modes.search?.ndcg10 ?? 0,
          searchRecall10: r.modes.search?.recall10 ?? 0,
          chatNdcg10: r.modes.chat?.ndcg10 ?? 0,
          queries: queries.length,
          ...(r.qa ? { paperAt5: r.qa.search.paperAt5, answerAt5: r.qa.search.answerAt5, qa: r.qa } : {}),
        };
      }
      log(
        `  sweep ${v.label}: ` +
          Object.entries(figures.sets)
            .map(
              ([n, f]) =>
                `${n} /search ${f.searchNdcg10.toFixed(3)} (R@10 ${f.searchRecall10.toFixed(3)}) chat ${f.chatNdcg10.toFixed(3)}` +
                (f.qa ? ` ${qaLine(f.qa)}` : ''),
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

const pct = (x: number) => (x * 100).toFixed(1);

/** paper@1/5/10 and answer@1/5/10, /search then chat. */
function qaLine(qa: { search: QaFigures; chat: QaFigures }): string {
  const one = (f: QaFigures) =>
    `paper@1/5/10 ${pct(f.paperAt1)}/${pct(f.paperAt5)}/${pct(f.paperAt10)} % answer@1/5/10 ${pct(f.answerAt1)}/${pct(f.answerAt5)}/${pct(f.answerAt10)} %`;
  return `· /search ${one(qa.search)} · chat ${one(qa.chat)}`;
}
