/**
 * BENCH_COMPARE: a second gateway B on the same stack (other settings, or another build through
 * BENCH_GATEWAY_DIST), its retrieval request interleaved with A's in every iteration, so both are
 * measured under the same load; reported pair by pair against A.
 */
import { pct, untimed, type StreamResult } from './measure.js';

const f = (n: number) => n.toFixed(2);

/** `KEY=value,KEY=value` → the environment of gateway B; undefined when unset. */
export function compareSettings(spec: string | undefined): Record<string, string> | undefined {
  if (!spec?.trim()) return undefined;
  const env: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new Error(`BENCH_COMPARE: "${part}" is not KEY=value`);
    env[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return env;
}

/** The gateway's added time to first token beyond embed + search, on one request. */
const added = (r: StreamResult, directTtft: number) => r.ttftMs - r.retrievalMs - directTtft;

/**
 * `pairs[i]` = [A's, B's] retrieval request of iteration i, `directTtft[i]` its direct request.
 * Paired differences, so a slow moment of the machine counts against both alike.
 */
export function reportCompare(
  env: Record<string, string>,
  directTtft: number[],
  pairs: [StreamResult, StreamResult][],
): void {
  const label = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  console.log(`\nA (this build, as configured) against B (${label}), interleaved, ${pairs.length} pairs`);
  const a = pairs.map(([x], i) => added(x, directTtft[i]!));
  const b = pairs.map(([, y], i) => added(y, directTtft[i]!));
  const diff = pairs.map(([x, y]) => x.ttftMs - x.retrievalMs - (y.ttftMs - y.retrievalMs));
  const row = (name: string, v: number[]) =>
    console.log(`  ${name.padEnd(52)} ${f(pct(v, 50)).padStart(8)} ${f(pct(v, 99)).padStart(8)}`);
  console.log(`  ${''.padEnd(52)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`);
  row('A: added TTFT beyond embed + search (ms)', a);
  row('B: added TTFT beyond embed + search (ms)', b);
  row('A − B, paired (ms)', diff);
  row(
    'A: embed + search (ms)',
    pairs.map(([x]) => x.retrievalMs),
  );
  row(
    'B: embed + search (ms)',
    pairs.map(([, y]) => y.retrievalMs),
  );
  row(
    'A − B: TTFT, paired (ms)',
    pairs.map(([x, y]) => x.ttftMs - y.ttftMs),
  );
  for (const [name, i] of [
    ['A', 0],
    ['B', 1],
  ] as const) {
    const rows: Record<string, number>[] = pairs.map((p) => ({ ...p[i].stages, untimed: untimed(p[i]) }));
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    console.log(
      `  ${name} stages p50: ` +
        names
          .map(
            (n) =>
              `${n} ${f(
                pct(
                  rows.map((r) => r[n] ?? 0),
                  50,
                ),
              )}`,
          )
          .join(', '),
    );
  }
}
