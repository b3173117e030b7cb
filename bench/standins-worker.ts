/**
 * The Qdrant and Ollama stand-ins in a thread of their own, so their CPU work (scoring, lexical
 * embeddings) does not run on the ingestor's event loop — as the real services run elsewhere.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OllamaStandin, QdrantStandin } from '../test/standins/index.js';

const cost = workerData as { batchCostMs: number; textCostMs?: number };
const ollama = await new OllamaStandin({
  batchCostMs: cost.batchCostMs,
  textCostMs: cost.textCostMs ?? 0,
  vectors: 'fast',
}).start();
const qdrant = await new QdrantStandin().start();
parentPort!.on('message', async (msg: string) => {
  if (msg === 'counters') parentPort!.postMessage({ counters: { ...ollama.counters } });
  if (msg === 'close') {
    await ollama.close();
    await qdrant.close();
    parentPort!.postMessage({ closed: true });
  }
});
parentPort!.postMessage({ ollama: ollama.url, qdrant: qdrant.url });
