/**
 * One streamed chat request as the benchmark sees it: time to the first content token, each
 * chunk's delay since the upstream wrote it (the stand-in stamps `ts`), and the gateway's
 * Server-Timing stages.
 */
import { Agent, request } from 'undici';

export const now = () => performance.timeOrigin + performance.now();

/** The load generator's pool: kept-alive connections, so a request never pays for a connect. */
export const agent = new Agent({ connections: 1024, keepAliveTimeout: 60_000, pipelining: 1 });

export interface StreamResult {
  ok: boolean;
  status: number;
  ttftMs: number;
  /** Arrival − upstream write time of every content chunk (ms). */
  chunkDelays: number[];
  tokens: number;
  /** embed + search of the gateway's Server-Timing (ms). */
  retrievalMs: number;
  /** The gateway's Server-Timing stages (ms). */
  stages: Record<string, number>;
  error?: string;
  /** When the request was sent and its first token arrived (ms since the epoch, µs precision). */
  t0?: number;
  arrivedFirst?: number;
}

export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Time to first token beyond the stages the gateway timed: the request reaching the route and the first write back. */
export const untimed = (x: StreamResult) => x.ttftMs - Object.values(x.stages).reduce((a, b) => a + b, 0);

/** POSTs a streamed chat request and reads the answer to its end; `expectTokens` content chunks make it ok. */
export async function stream(
  url: string,
  headers: Record<string, string>,
  model: string,
  expectTokens: number,
): Promise<StreamResult> {
  const t0 = now();
  const out: StreamResult = {
    ok: false,
    status: 0,
    ttftMs: NaN,
    chunkDelays: [],
    tokens: 0,
    retrievalMs: 0,
    stages: {},
  };
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        model,
        stream: true,
        messages: [{ role: 'user', content: 'How are travel expenses reimbursed?' }],
      }),
    });
    out.status = res.statusCode;
    const timing = String(res.headers['server-timing'] ?? '');
    for (const m of timing.matchAll(/(\w+);dur=([\d.]+)/g)) {
      out.stages[m[1]!] = Number(m[2]);
      if (m[1] === 'embed' || m[1] === 'search') out.retrievalMs += Number(m[2]);
    }
    let buf = '';
    let done = false;
    for await (const chunk of res.body) {
      const arrived = now();
      buf += (chunk as Buffer).toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.startsWith('data: ') ? block.slice(6) : '';
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        if (!data) continue;
        const parsed = JSON.parse(data) as { ts?: number; choices?: { delta?: { content?: string } }[] };
        if (parsed.choices?.[0]?.delta?.content) {
          if (out.tokens === 0) {
            out.ttftMs = arrived - t0;
            out.t0 = t0;
            out.arrivedFirst = arrived;
          }
          out.tokens++;
          if (parsed.ts) out.chunkDelays.push(arrived - parsed.ts);
        }
      }
    }
    out.ok = res.statusCode === 200 && done && out.tokens === expectTokens;
    if (!out.ok) out.error = `status ${res.statusCode}, done ${done}, tokens ${out.tokens}`;
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}
