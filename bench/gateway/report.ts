/** The figures of `npm run bench:gateway`, printed against the targets of issue #12. */
import { pct, type StreamResult } from './measure.js';

const MB = 1024 * 1024;
const f = (n: number) => n.toFixed(2);
const p50p99 = (v: number[]) => `${f(pct(v, 50))} / ${f(pct(v, 99))}`;
const line = (label: string, value: string, target = '') =>
  console.log(`  ${label.padEnd(52)} ${value.padStart(12)}  ${target}`);

export interface SequentialFigures {
  directTtft: number[];
  retrieval: number[];
  addedRag: number[];
  /** addedRag less the window fetch (Server-Timing `window`): the gateway's own time alone. */
  addedRagOwn: number[];
  addedProxy: number[];
  directDelays: number[];
  gatewayDelays: number[];
  ragStages: Record<string, number>[];
  proxyStages: Record<string, number>[];
  errors: number;
}

export interface ConcurrentFigures {
  concurrency: number;
  tokens: number;
  intervalMs: number;
  results: StreamResult[];
  wallMs: number;
  idleRss: number;
  peakRss: number;
  rss: number;
}

/** Processing time inside the Qdrant stand-in per request kind (ms), from its answers' `time`. */
export interface QdrantStats {
  qdrant: Record<string, number[]>;
}

export function reportSequential(s: SequentialFigures, stats?: QdrantStats): void {
  console.log('\nResults');
  line('direct TTFT p50 / p99 (ms)', p50p99(s.directTtft));
  line('embed + vector search p50 / p99 (ms)', p50p99(s.retrieval));
  line('added TTFT with retrieval, p50 (ms)', f(pct(s.addedRag, 50)), '(target ≤ 3 ms)');
  line('added TTFT with retrieval, p99 (ms)', f(pct(s.addedRag, 99)));
  if (s.addedRagOwn.length)
    line('  of it the gateway alone (less the window fetch) p50 / p99', p50p99(s.addedRagOwn));
  line('added TTFT, proxy only (task request), p50 / p99 (ms)', p50p99(s.addedProxy), '(target ≤ 1 ms p50)');
  line('chunk delay direct p50 / p99 (ms)', p50p99(s.directDelays));
  line('chunk delay via gateway p50 / p99 (ms)', p50p99(s.gatewayDelays));
  line(
    'added per-chunk delay p99 (ms)',
    f(pct(s.gatewayDelays, 99) - pct(s.directDelays, 99)),
    '(target ≤ 1 ms)',
  );
  line('sequential errors', String(s.errors));
  for (const [label, rows] of [
    ['with retrieval', s.ragStages],
    ['proxy only', s.proxyStages],
  ] as const) {
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    console.log(`  gateway stages, ${label} (Server-Timing), p50 / p99 ms:`);
    console.log(
      '    ' + names.map((n) => `${n} ${p50p99(rows.map((r) => r[n] ?? 0)).replace(' / ', '/')}`).join(', '),
    );
  }
  if (stats) {
    // search and window are timed by the gateway around its Qdrant calls: the stand-in's own work,
    // the loopback HTTP hop and the client. This is the first part alone.
    console.log('  inside the Qdrant stand-in (its own processing, per request), p50 / p99 ms:');
    console.log(
      '    ' +
        Object.entries(stats.qdrant)
          .map(([kind, v]) => `${kind} ${p50p99(v).replace(' / ', '/')} (${v.length})`)
          .join(', '),
    );
  }
}

export function reportConcurrent(c: ConcurrentFigures): void {
  const errors = c.results.filter((r) => !r.ok);
  const ok = c.results.filter((r) => r.ok);
  line(`${c.concurrency} concurrent: errors`, String(errors.length), '(target 0)');
  if (errors.length) console.log('   first error:', errors[0]!.error);
  line(`${c.concurrency} concurrent: TTFT p50 / p99 (ms)`, p50p99(ok.map((r) => r.ttftMs)));
  line(
    `${c.concurrency} concurrent: wall time (ms)`,
    f(c.wallMs),
    `(ideal ≈ ${(c.tokens - 1) * c.intervalMs} ms of tokens)`,
  );
  line(`${c.concurrency} concurrent: gateway peak RSS (MB)`, f(c.peakRss / MB), '(target < 300 MB)');
  line('gateway RSS before / after the burst (MB)', `${f(c.idleRss / MB)} / ${f(c.rss / MB)}`);
}
