/**
 * `npm run embedder -- [--port 11435] [--models-dir ../shared/models] [--model all-MiniLM-L6-v2]
 * [--threads 2]`: the ONNX embedder as a standalone Ollama-compatible server on 127.0.0.1, for
 * development (OLLAMA_URL=http://127.0.0.1:11435 EMBED_MODEL=all-MiniLM-L6-v2 EMBED_DIM=384
 * EMBED_DOCUMENT_PREFIX=none EMBED_QUERY_PREFIX=none) and `npm run eval -- --embedder-url …`.
 * Embeddings only: chat needs a real LLM upstream.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DEFAULT_MODELS_DIR, DEFAULT_ONNX_MODEL, OnnxEmbedder } from './onnx-embedder.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '11435' },
    'models-dir': { type: 'string' },
    model: { type: 'string', default: DEFAULT_ONNX_MODEL },
    threads: { type: 'string', default: '2' },
  },
});
const embedder = await new OnnxEmbedder({
  modelsDir: values['models-dir'] ? resolve(values['models-dir']) : DEFAULT_MODELS_DIR,
  model: values.model,
  threads: Number(values.threads),
}).start(Number(values.port));
console.log(
  `${embedder.model} (${embedder.dimension}-d, ${embedder.contextLength} tokens) at ${embedder.url}`,
);
const stop = () => void embedder.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
