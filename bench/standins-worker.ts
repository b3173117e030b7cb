/**
 * The Qdrant and Ollama stand-ins in a thread of their own, so their CPU work (scoring, lexical
 * embeddings) does not run on the ingestor's event loop — as the real services run elsewhere.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OllamaStandin, QdrantStandin } from '../test/standins/index.js';

const cost = workerData as { batchCostMs: number; textCostMs?: number; keepAliveMs?: number };
const ollama = new OllamaStandin({
  batchCostMs: cost.batchCostMs,
  textCostMs: cost.textCostMs ?? 0,
  vectors: 'fast',
});
const qdrant = new QdrantStandin();
// Idle connections kept 5 s, as Qdrant (actix-web) does and as Ollama keeps them longer still:
// the tests' 1 s default is under undici's 2 s margin, so every call would open a connection.
ollama.keepAliveTimeoutMs = qdrant.keepAliveTimeoutMs = cost.keepAliveMs ?? 5000;
await qdrant.start();
await ollama.start();
parentPort!.on('message', async (msg: string) => {
  if (msg === 'counters') parentPort!.postMessage({ counters: { ...ollama.counters } });
  if (msg === 'close') {
    await ollama.close();
    await qdrant.close();
    parentPort!.postMessage({ closed: true });
  }
});
parentPort!.postMessage({ ollama: ollama.url, qdrant: qdrant.url });
