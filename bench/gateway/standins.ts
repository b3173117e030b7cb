/**
 * Stand-ins for `npm run bench:gateway`, in their own process: Qdrant and Ollama (embeddings),
 * and an OpenAI-compatible upstream that streams `tokens` chunks every `intervalMs`, each chunk
 * stamped with the wall-clock time it was written (`ts`, ms with µs precision), so the client
 * can measure each chunk's delay with and without the gateway in between. `stats` answers the
 * Qdrant stand-in's own processing time per request kind since `reset` (the `time` of Qdrant's
 * answer envelope), so the benchmark can tell the stand-in's work from the HTTP hop and the gateway.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { OllamaStandin, QdrantStandin } from '../../test/standins/index.js';

const tokens = Number(process.env.BENCH_TOKENS ?? 20);
const intervalMs = Number(process.env.BENCH_INTERVAL_MS ?? 10);
const now = () => performance.timeOrigin + performance.now();

// Connections kept like the real services keep them: the bench measures requests, not connects.
const ollamaStandin = new OllamaStandin({ dimension: 768 });
const qdrantStandin = new QdrantStandin();
ollamaStandin.keepAliveTimeoutMs = qdrantStandin.keepAliveTimeoutMs = 5000;
const ollama = await ollamaStandin.start();
const qdrant = await qdrantStandin.start();

const upstream = createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', async () => {
    const body = JSON.parse(raw || '{}') as { model?: string; stream?: boolean };
    const base = { id: 'chatcmpl-bench', created: Math.floor(Date.now() / 1000), model: body.model ?? 'x' };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let closed = false;
    res.once('close', () => (closed = true));
    for (let i = 0; i < tokens && !closed; i++) {
      if (i > 0) await sleep(intervalMs);
      const chunk = {
        ...base,
        object: 'chat.completion.chunk',
        ts: now(),
        choices: [{ index: 0, delta: { content: ` t${i}` }, finish_reason: null }],
      };
      if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await new Promise((r) => res.once('drain', r));
    }
    if (closed) return;
    res.write(
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  });
});
upstream.keepAliveTimeout = 60_000;
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;

process.send!({ ollama: ollama.url, qdrant: qdrant.url, upstream: upstreamUrl });
/** The Qdrant requests the gateway makes per chat turn, by the path's last segment. */
const KINDS: Record<string, string> = {
  batch: 'query batch (search)',
  points: 'retrieve (search)',
  scroll: 'scroll (window)',
};
process.on('message', (msg) => {
  if (msg === 'reset') {
    qdrantStandin.log.length = 0;
    process.send!({ reset: true });
  }
  if (msg === 'stats') {
    const qdrant: Record<string, number[]> = {};
    for (const e of qdrantStandin.log) {
      const kind = KINDS[e.path.split('/').at(-1)!];
      const time = (e.response as { time?: number } | undefined)?.time;
      if (kind && time !== undefined) (qdrant[kind] ??= []).push(time * 1000);
    }
    qdrantStandin.log.length = 0;
    process.send!({ qdrant });
  }
  if (msg === 'close') void Promise.all([ollama.close(), qdrant.close()]).then(() => process.exit(0));
});
