/**
 * `npm run bench:gateway` — what the gateway adds to a streamed chat answer.
 *
 * One run, three processes: stand-ins (Qdrant, Ollama embeddings, and an OpenAI-compatible
 * upstream streaming BENCH_TOKENS chunks every BENCH_INTERVAL_MS, each stamped with the time it
 * was written), the real gateway (own process: own RSS), and this load generator. Real Postgres
 * (embedded) behind the gateway, the shipped `rattgllm` pipeline, 50 indexed documents
 * (gateway/stack.ts; BENCH_CORPUS=short: the one-sentence chunks of earlier runs, no window grows). The gateway runs from gateway/dist, so the script builds first (`tsc -b gateway`).
 *
 * Reports (gateway/report.ts)
 * - added time-to-first-token: gateway TTFT − direct TTFT − (embed + vector search) of the same
 *   request (from the gateway's Server-Timing header), paired per iteration; and the same for a
 *   request without retrieval (Open WebUI task header: pure proxy cost). The three requests of an
 *   iteration run in a rotating order, so none always follows the same one;
 * - added per-chunk delay: (arrival − upstream write time) through the gateway vs direct;
 * - BENCH_CONCURRENCY concurrent streams through the gateway (0: skipped): errors, TTFT, gateway peak RSS;
 * - the gateway's own stages (Server-Timing: auth, parse, context, embed, search, acl, upstream)
 *   and what no stage covers (request in, first write out), p50 / p99.
 * BENCH_GATEWAY_NODE_OPTIONS is passed to the gateway process (default: the image's heap cap; e.g. `--cpu-prof`); BENCH_GATEWAY_LOG_LEVEL
 * sets its LOG_LEVEL (default info, as shipped; its stdout goes to a file).
 * BENCH_COMPARE=`KEY=value,…`: a second gateway B on the same stack with those settings on top
 * (e.g. `PASSAGE_WINDOW_TOKENS=0`, or `BENCH_GATEWAY_DIST=/other/gateway/dist/build.js` for another
 * build); its retrieval request joins every iteration's rotation, so A and B are measured
 * interleaved, under the same load, and compared pair by pair (gateway/compare.ts).
 */
import { now, stream, untimed, type StreamResult } from './gateway/measure.js';
import { reportConcurrent, reportSequential, type SequentialFigures } from './gateway/report.js';
import { startStack } from './gateway/stack.js';
import { compareSettings, reportCompare } from './gateway/compare.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 20);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 10);

const stack = await startStack({
  tokens: TOKENS,
  intervalMs: INTERVAL_MS,
  // The gateway image's heap cap (gateway/Dockerfile); BENCH_GATEWAY_NODE_OPTIONS overrides.
  gatewayNodeOptions: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '--max-old-space-size=256',
  corpus: process.env.BENCH_CORPUS === 'short' ? 'short' : 'sections',
});
const url = `${stack.gateway}/v1/chat/completions`;
const direct = () => stream(`${stack.upstream}/chat/completions`, {}, 'llama3.1:8b', TOKENS);
const viaRag = () => stream(url, stack.auth, 'rattgllm', TOKENS);
const viaProxy = () => stream(url, { ...stack.auth, 'x-openwebui-task': 'bench' }, 'rattgllm', TOKENS);
const compare = compareSettings(process.env.BENCH_COMPARE);
const b = compare && (await stack.spawnGateway(compare));
const viaRagB = b ? () => stream(`${b.url}/v1/chat/completions`, stack.auth, 'rattgllm', TOKENS) : undefined;

/** One iteration: the requests one after the other, starting with a different one each time. */
async function iteration(i: number): Promise<StreamResult[]> {
  const calls = viaRagB ? [direct, viaRag, viaProxy, viaRagB] : [direct, viaRag, viaProxy];
  const n = calls.length;
  const out: StreamResult[] = [];
  for (let k = 0; k < n; k++) out[(i + k) % n] = await calls[(i + k) % n]!();
  return out;
}

console.log(
  `upstream: ${TOKENS} chunks every ${INTERVAL_MS} ms; ${ITERATIONS} sequential iterations; warming up …`,
);
for (let i = 0; i < 30; i++) await iteration(i);
await stack.ask<unknown>('reset', 'reset', 'standins');

const s: SequentialFigures = {
  directTtft: [],
  retrieval: [],
  addedRag: [],
  addedRagOwn: [],
  addedProxy: [],
  directDelays: [],
  gatewayDelays: [],
  ragStages: [],
  proxyStages: [],
  errors: 0,
};
const pairs: [StreamResult, StreamResult][] = [];
for (let i = 0; i < ITERATIONS; i++) {
  const [d, r, p, rb] = (await iteration(i)) as [StreamResult, StreamResult, StreamResult, StreamResult?];
  if (!d.ok || !r.ok || !p.ok || (rb && !rb.ok)) {
    s.errors++;
    continue;
  }
  if (rb) pairs.push([r, rb]);
  s.directTtft.push(d.ttftMs);
  s.ragStages.push({ ...r.stages, untimed: untimed(r) });
  s.proxyStages.push({ ...p.stages, untimed: untimed(p) });
  s.retrieval.push(r.retrievalMs);
  s.addedRag.push(r.ttftMs - r.retrievalMs - d.ttftMs);
  if (r.stages.window !== undefined)
    s.addedRagOwn.push(r.ttftMs - r.retrievalMs - r.stages.window - d.ttftMs);
  s.addedProxy.push(p.ttftMs - d.ttftMs);
  s.directDelays.push(...d.chunkDelays);
  s.gatewayDelays.push(...r.chunkDelays, ...p.chunkDelays);
}
reportSequential(s, await stack.ask<{ qdrant: Record<string, number[]> }>('stats', 'qdrant', 'standins'));
if (compare) reportCompare(compare, s.directTtft, pairs);

if (CONCURRENCY > 0) {
  console.log(`\n${CONCURRENCY} concurrent streams through the gateway (with retrieval) …`);
  const { rss: idleRss } = await stack.ask<{ rss: number }>('reset-peak', 'reset');
  const t0 = now();
  const results = await Promise.all(Array.from({ length: CONCURRENCY }, () => viaRag()));
  const wallMs = now() - t0;
  const { peak, rss } = await stack.ask<{ peak: number; rss: number }>('rss', 'peak');
  reportConcurrent({
    concurrency: CONCURRENCY,
    tokens: TOKENS,
    intervalMs: INTERVAL_MS,
    results,
    wallMs,
    idleRss,
    peakRss: peak,
    rss,
  });
}
await stack.close();
