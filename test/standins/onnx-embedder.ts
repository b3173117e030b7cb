/**
 * A real embedder behind Ollama's HTTP API: all-MiniLM-L6-v2 (ONNX, from `../shared/models`, never
 * downloaded) run with onnxruntime-node, tokenised with @huggingface/tokenizers. It answers
 * `/api/embed`, `/api/tags`, `/api/show` (with the model's real `embedding_length` and
 * `context_length`) and `/api/version` like Ollama, so the project's embedder client, the
 * ingestor and `npm run eval` use it unchanged — and rankings in tests mean something.
 *
 * Use as sentence-transformers does (the model's README): WordPiece with padding OFF and
 * truncation at 256 (the shipped tokenizer.json pads and truncates at 128, which gives wrong
 * vectors), mean pooling over the attention mask, then L2. Like Ollama with `truncate: true`,
 * over-long input is cut and `prompt_eval_count` reports the tokens actually read.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { JsonError, StandinServer, embedInputs } from './server.js';

/**
 * Where the shared models live: `../shared/models` beside the repository root, or MODELS_DIR
 * (a checkout elsewhere, e.g. a git worktree). Test support, like OLLAMA_URL in index.ts.
 */
export const DEFAULT_MODELS_DIR = resolve(
  import.meta.dirname,
  '../..',
  process.env.MODELS_DIR ?? '../shared/models',
);
export const DEFAULT_ONNX_MODEL = 'all-MiniLM-L6-v2';

export interface OnnxEmbedderOptions {
  /** Folder holding `<model>/tokenizer.json` and `<model>/onnx/model.onnx` (default ../shared/models). */
  modelsDir?: string;
  /** Model folder name, also the name served in /api/tags (default all-MiniLM-L6-v2). */
  model?: string;
  /** Inputs per ONNX run; longer requests are split (default 16). */
  runBatch?: number;
  /** Intra-op threads of the ONNX session (default 1: the CI machine has 2 cores for everything). */
  threads?: number;
}

interface Loaded {
  tokenizer: Tokenizer;
  session: ort.InferenceSession;
  maxTokens: number;
  dimension: number;
  clsId: number;
  sepId: number;
}

/** Load the tokenizer and the ONNX session of a sentence-transformers model folder. */
async function loadModel(dir: string, threads: number): Promise<Loaded> {
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  // The shipped file pads to 128 and truncates at 128; we do neither inside the tokenizer.
  json.padding = null;
  json.truncation = null;
  const tokConfig = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as object;
  const st = JSON.parse(await readFile(join(dir, 'sentence_bert_config.json'), 'utf8')) as {
    max_seq_length?: number;
  };
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { hidden_size?: number };
  const tokenizer = new Tokenizer(json, tokConfig);
  const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
  });
  const idOf = (t: string) => {
    const id = tokenizer.token_to_id(t);
    if (id === undefined) throw new Error(`${dir}: tokenizer has no ${t}`);
    return id;
  };
  return {
    tokenizer,
    session,
    maxTokens: st.max_seq_length ?? 256,
    dimension: config.hidden_size ?? 384,
    clsId: idOf('[CLS]'),
    sepId: idOf('[SEP]'),
  };
}

export class OnnxEmbedder extends StandinServer {
  readonly model: string;
  readonly modelsDir: string;
  private readonly runBatch: number;
  private readonly threads: number;
  private loaded: Loaded | undefined;
  /** Runs one ONNX batch at a time, like one device. */
  private device: Promise<unknown> = Promise.resolve();
  readonly counters = { embedCalls: 0, embedInputs: 0, truncatedInputs: 0 };

  constructor(options: OnnxEmbedderOptions = {}) {
    super();
    this.modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
    this.model = options.model ?? DEFAULT_ONNX_MODEL;
    this.runBatch = options.runBatch ?? 16;
    this.threads = options.threads ?? 1;
  }

  override async start(port = 0): Promise<this> {
    this.loaded = await loadModel(join(this.modelsDir, this.model), this.threads);
    return super.start(port);
  }

  get dimension(): number {
    return this.loaded?.dimension ?? 0;
  }

  /** The model's context in tokens, [CLS] and [SEP] included. */
  get contextLength(): number {
    return this.loaded?.maxTokens ?? 0;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.loaded?.session.release();
    this.loaded = undefined;
  }

  private isModel(name: unknown): boolean {
    if (typeof name !== 'string') return false;
    const bare = name.replace(/:latest$/, '');
    return bare === this.model;
  }

  protected errorBody(_status: number, message: string): unknown {
    return { error: message };
  }

  /** Token ids of one text, cut to the context like Ollama's `truncate: true`. */
  tokenize(text: string): { ids: number[]; truncated: boolean } {
    const m = this.loaded!;
    const inner = m.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const room = m.maxTokens - 2;
    const truncated = inner.length > room;
    return { ids: [m.clsId, ...(truncated ? inner.slice(0, room) : inner), m.sepId], truncated };
  }

  /** Embed texts: mean pooling over the attention mask, then L2 (sentence-transformers). */
  async embed(texts: readonly string[]): Promise<{ embeddings: number[][]; tokens: number }> {
    const out: number[][] = [];
    let tokens = 0;
    for (let i = 0; i < texts.length; i += this.runBatch) {
      const batch = texts.slice(i, i + this.runBatch).map((t) => this.tokenize(t));
      for (const b of batch) {
        tokens += b.ids.length;
        if (b.truncated) this.counters.truncatedInputs++;
      }
      const run = this.device.then(() => this.runBatchOnce(batch.map((b) => b.ids)));
      this.device = run.catch(() => {});
      out.push(...(await run));
    }
    return { embeddings: out, tokens };
  }

  private async runBatchOnce(batch: number[][]): Promise<number[][]> {
    const m = this.loaded!;
    const len = Math.max(...batch.map((ids) => ids.length));
    const n = batch.length;
    const ids = new BigInt64Array(n * len);
    const mask = new BigInt64Array(n * len);
    batch.forEach((seq, r) =>
      seq.forEach((id, c) => {
        ids[r * len + c] = BigInt(id);
        mask[r * len + c] = 1n;
      }),
    );
    const feeds = {
      input_ids: new ort.Tensor('int64', ids, [n, len]),
      attention_mask: new ort.Tensor('int64', mask, [n, len]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(n * len), [n, len]),
    };
    const result = await m.session.run(feeds);
    const hidden = result.last_hidden_state!.data as Float32Array;
    const dim = m.dimension;
    return batch.map((seq, r) => {
      const v = new Float64Array(dim);
      // Only the real tokens of this row (padding beyond seq.length is masked out).
      for (let c = 0; c < seq.length; c++) {
        const base = (r * len + c) * dim;
        for (let d = 0; d < dim; d++) v[d]! += hidden[base + d]!;
      }
      let norm = 0;
      for (let d = 0; d < dim; d++) {
        v[d]! /= seq.length;
        norm += v[d]! * v[d]!;
      }
      norm = Math.sqrt(norm) || 1;
      return Array.from(v, (x) => x / norm);
    });
  }

  private entry() {
    return {
      name: `${this.model}:latest`,
      model: `${this.model}:latest`,
      modified_at: new Date(0).toISOString(),
      size: 90_868_376,
      digest: '6b195261'.padEnd(64, '0'),
      details: {
        parent_model: '',
        format: 'onnx',
        family: 'bert',
        families: ['bert'],
        parameter_size: '23M',
        quantization_level: 'F32',
      },
    };
  }

  protected handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    url: URL,
  ): Promise<void> => {
    const b = (body ?? {}) as Record<string, unknown>;
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /':
      case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Ollama is running');
        return;
      case 'GET /api/version':
        return this.sendJson(res, 200, { version: '0.12.6' });
      case 'GET /api/tags':
        return this.sendJson(res, 200, { models: [this.entry()] });
      case 'POST /api/show': {
        const name = b.model ?? b.name;
        if (!name) throw new JsonError(400, 'model is required');
        if (!this.isModel(name)) throw new JsonError(404, `model '${String(name)}' not found`);
        const entry = this.entry();
        return this.sendJson(res, 200, {
          license: 'Apache License Version 2.0',
          modelfile: `FROM ${this.model}\n`,
          parameters: `num_ctx                        ${this.contextLength}`,
          template: '{{ .Prompt }}',
          details: entry.details,
          model_info: {
            'general.architecture': 'bert',
            'general.parameter_count': 22_713_216,
            'bert.context_length': this.contextLength,
            'bert.embedding_length': this.dimension,
            'bert.pooling_type': 1,
          },
          capabilities: ['embedding'],
          modified_at: entry.modified_at,
        });
      }
      case 'POST /api/embed': {
        const started = process.hrtime.bigint();
        if (typeof b.model !== 'string' || !b.model) throw new JsonError(400, 'model is required');
        if (!this.isModel(b.model))
          throw new JsonError(404, `model "${b.model}" not found, try pulling it first`);
        const inputs = embedInputs(b.input);
        if (b.truncate === false) {
          const tooLong = inputs.some((t) => this.tokenize(t).truncated);
          if (tooLong) throw new JsonError(400, 'the input length exceeds the context length');
        }
        const { embeddings, tokens } = await this.embed(inputs);
        this.counters.embedCalls++;
        this.counters.embedInputs += inputs.length;
        return this.sendJson(res, 200, {
          model: b.model,
          embeddings,
          total_duration: Number(process.hrtime.bigint() - started),
          load_duration: 0,
          prompt_eval_count: tokens,
        });
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found');
    }
  };
}

export async function startOnnxEmbedder(options?: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
  return new OnnxEmbedder(options).start();
}
