import type { EvalReport } from './harness.js';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const f3 = (x: number) => x.toFixed(3);

/** The human-readable table of an evaluation report. */
export function formatReport(r: EvalReport): string {
  const lines = [
    '',
    `=== eval: ${r.dataset} — ${r.documents} documents, ${r.queries} queries, ${r.chunks} chunks ===`,
    `ingest ${r.ingestSeconds.toFixed(0)} s, queries ${r.querySeconds.toFixed(0)} s` +
      (r.embeddedPassages !== undefined
        ? `; embedder cut ${r.truncatedPassages} of ${r.embeddedPassages} inputs at its context`
        : '') +
      (r.cache ? `; embedding cache ${r.cache.hits} hits, ${r.cache.misses} embedded` : ''),
    `settings ${JSON.stringify(r.settings)}`,
    ...(r.retrieveMs
      ? [
          `retrieval, mean ms per call (${r.retrieveMs.calls} calls): ` +
            ['embedMs', 'searchMs', 'checkMs', 'windowMs']
              .map((k) => `${k.replace('Ms', '')} ${(r.retrieveMs![k] ?? 0).toFixed(1)}`)
              .join(', '),
        ]
      : []),
    '',
    'mode                     nDCG@10  R@10   R@100  MRR@10',
  ];
  const label: Record<string, string> = {
    search: '/search (limit 10)',
    hybrid: 'hybrid (limit 100)',
    dense: 'dense only',
    sparse: 'sparse (BM25) only',
    chat: 'chat path (topK, floor)',
    searchPassages: 'search, per passage',
    chatCosineFloor: 'chat, cosine-only floor',
  };
  for (const [mode, m] of Object.entries(r.modes)) {
    lines.push(
      `${(label[mode] ?? mode).padEnd(24)} ${f3(m.ndcg10).padStart(7)}  ${f3(m.recall10)}  ${f3(m.recall100)}  ${f3(m.mrr10)}` +
        (m.fewerThan10Docs !== undefined ? `   (${m.fewerThan10Docs} queries with < 10 documents)` : ''),
    );
  }
  if (r.qa) {
    lines.push('', 'COVID-QA                 paper@1  @5      @10     answer@1 @5      @10');
    for (const [path, q] of Object.entries(r.qa)) {
      lines.push(
        `${path.padEnd(24)} ${pct(q.paperAt1).padStart(7)}  ${pct(q.paperAt5)}  ${pct(q.paperAt10)}  ${pct(q.answerAt1)}  ${pct(q.answerAt5)}  ${pct(q.answerAt10)}`,
      );
    }
  }
  const f = r.followUps;
  if (f) {
    lines.push(
      '',
      `follow-ups (${f.pairs} pairs), right paper in /search top 5:`,
      `  first question ${pct(f.first)} · second as asked ${pct(f.original)} · pronoun follow-up alone ${pct(f.followUpAlone)}`,
      `  follow-up condensed from the conversation ${pct(f.condensed)} (${pct(f.recovered)} of the first question's rate)` +
        ` · second as asked, condensed ${pct(f.originalCondensed)}`,
    );
  }
  return lines.join('\n');
}
