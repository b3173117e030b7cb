/**
 * An in-process stand-in for Ollama that speaks its real HTTP API for what rattgllm uses:
 * `/api/embed`, `/api/tags`, `/api/show`, `/api/pull` (NDJSON progress), `/api/version`, and the
 * OpenAI-compatible `/v1/models` and `/v1/chat/completions` (SSE stream or one JSON answer).
 * Bodies, field names, status codes and error texts follow Ollama's server (server/routes.go,
 * openai/openai.go). Embeddings come from `lexicalEmbedding`; the "GPU" is one serial device with
 * a configurable cost per batch, so a benchmark can measure how busy we keep it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastEmbedding, lexicalEmbedding } from './lexical.js';
import { JsonError, StandinServer, embedInputs } from './server.js';

export interface OllamaStandinOptions {
  /** Embedding size (default 768, like nomic-embed-text). */
  dimension?: number;
  /** Embedding size per model where it differs from `dimension` (a model change to another size). */
  dimensions?: Record<string, number>;
  /** Models present at start (default: nomic-embed-text and llama3.1:8b). */
  models?: string[];
  /** Cost of one /api/embed call on the device, in ms (default 0). */
  batchCostMs?: number;
  /**
   * Added cost per text of a call, in ms (default 0): a GPU's `a + b·texts`, where the fixed
   * part dominates, so batching many texts per call is what makes it fast.
   */
  textCostMs?: number;
  /** Context length in whitespace words; longer inputs are cut (truncate) or refused. */
  contextLength?: number;
  /**
   * Modelfile parameters per model (`PARAMETER num_ctx 8192` → `{ num_ctx: 8192 }`), reported by
   * /api/show as Ollama does.
   */
  parameters?: Record<string, Record<string, string | number>>;
  /**
   * `lexical` (default): stemmed words and trigrams, good enough to rank relevant passages first.
   * `fast`: unstemmed words only — for benchmarks, where the stand-in's own CPU time must not
   * stand in for the GPU's.
   */
  vectors?: 'lexical' | 'fast';
}

export interface ChatScript {
  /** Content pieces streamed one per chunk (joined for a non-stream answer). */
  tokens: string[];
  /** Pause between streamed chunks, ms. */
  intervalMs: number;
}

export interface OllamaCounters {
  /** /api/embed calls answered with embeddings. */
  embedCalls: number;
  /** Inputs embedded. */
  embedInputs: number;
  /** Time the simulated device spent embedding, ms. */
  busyMs: number;
  /** Streamed chat answers the client abandoned before the end. */
  abortedStreams: number;
}

const EMBED_FAMILY = 'nomic-bert';

/** `nomic-embed-text` → `nomic-embed-text:latest`, as Ollama names models. */
export function fullModelName(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

export class OllamaStandin extends StandinServer {
  dimension: number;
  batchCostMs: number;
  textCostMs: number;
  contextLength: number;
  vectors: 'lexical' | 'fast';
  /** Answers to /v1/chat/completions; change it per test. */
  chat: ChatScript = { tokens: ['The', ' answer', ' is', ' in', ' the', ' documents', '.'], intervalMs: 0 };
  /** Faults specific to Ollama (the shared ones are on `faults`). */
  readonly ollamaFaults: { wrongDimension: number | null } = { wrongDimension: null };
  readonly counters: OllamaCounters = { embedCalls: 0, embedInputs: 0, busyMs: 0, abortedStreams: 0 };
  /** Bodies of every /v1/chat/completions request, in order. */
  readonly chatRequests: unknown[] = [];
  private readonly models = new Map<string, Date>();
  /** Embedding size per full model name, where it is not `dimension`. */
  readonly dimensions = new Map<string, number>();
  /** The model of every /api/embed call, in order (which model embedded a query). */
  readonly embedModels: string[] = [];
  /** Modelfile parameters per full model name; change per test. */
  readonly parameters = new Map<string, Record<string, string | number>>();
  /** /api/show calls, per requested name (the gateway caches them). */
  readonly showCalls: string[] = [];
  private device: Promise<void> = Promise.resolve();

  constructor(options: OllamaStandinOptions = {}) {
    super();
    this.dimension = options.dimension ?? 768;
    this.batchCostMs = options.batchCostMs ?? 0;
    this.textCostMs = options.textCostMs ?? 0;
    this.contextLength = options.contextLength ?? 2048;
    this.vectors = options.vectors ?? 'lexical';
    for (const m of options.models ?? ['nomic-embed-text', 'llama3.1:8b']) this.addModel(m);
    for (const [m, p] of Object.entries(options.parameters ?? {})) this.parameters.set(fullModelName(m), p);
    for (const [m, d] of Object.entries(options.dimensions ?? {})) this.dimensions.set(fullModelName(m), d);
  }

  private dimensionOf(name: string): number {
    return this.dimensions.get(fullModelName(name)) ?? this.dimension;
  }

  /**
   * /api/show's `parameters`: one `name value` line per Modelfile parameter, the name padded to
   * 30 columns and strings quoted, as Ollama's server formats them.
   */
  private parametersText(name: string, embed: boolean): string {
    const own = this.parameters.get(fullModelName(name));
    const params: Record<string, string | number> =
      own ?? (embed ? { num_ctx: 8192 } : { stop: '<|eot_id|>' });
    return Object.entries(params)
      .map(([k, v]) => `${k.padEnd(30)} ${typeof v === 'string' ? `"${v}"` : v}`)
      .join('\n');
  }

  addModel(name: string): void {
    this.models.set(fullModelName(name), new Date());
  }

  /** Fault: the model was never pulled (or was removed). */
  removeModel(name: string): void {
    this.models.delete(fullModelName(name));
  }

  hasModel(name: string): boolean {
    return this.models.has(fullModelName(name));
  }

  /**
   * Fault: the model runner dies during the next `count` embed requests. Real Ollama (0.24, runner
   * killed mid-request) answers HTTP 400 with the runner's transport error, and the request after
   * it starts a fresh runner and succeeds.
   */
  crashRunner(count = 1): void {
    this.failWith(400, 'do embedding request: Post "http://127.0.0.1:40183/embedding": EOF', count, {
      path: '/api/embed',
    });
  }

  override resetFaults(): void {
    super.resetFaults();
    this.ollamaFaults.wrongDimension = null;
  }

  protected errorBody(status: number, message: string, path: string): unknown {
    // The OpenAI-compatible routes wrap errors OpenAI's way (openai.NewError).
    if (path.startsWith('/v1/')) {
      const type =
        status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
      return { error: { message, type, param: null, code: null } };
    }
    return { error: message };
  }

  private isEmbeddingModel(name: string): boolean {
    return /embed|bge|minilm|e5|gte/i.test(name);
  }

  private requireModel(name: unknown): string {
    if (typeof name !== 'string' || !name) throw new JsonError(400, 'model is required');
    if (!this.hasModel(name)) throw new JsonError(404, `model "${name}" not found, try pulling it first`);
    return name;
  }

  /** One batch on the single simulated device: batches queue behind each other like on one GPU. */
  private runOnDevice(texts: number): Promise<void> {
    const cost = this.batchCostMs + this.textCostMs * texts;
    const run = this.device.then(async () => {
      const t0 = performance.now();
      if (cost > 0) await sleep(cost);
      this.counters.busyMs += performance.now() - t0;
    });
    this.device = run.catch(() => {});
    return run;
  }

  private modelEntry(name: string, modified: Date) {
    const embed = this.isEmbeddingModel(name);
    return {
      name,
      model: name,
      modified_at: modified.toISOString(),
      size: embed ? 274302450 : 4920753328,
      digest: (embed ? '0a109f422b47' : '46e0c10c039e').padEnd(64, '0'),
      details: {
        parent_model: '',
        format: 'gguf',
        family: embed ? EMBED_FAMILY : 'llama',
        families: [embed ? EMBED_FAMILY : 'llama'],
        parameter_size: embed ? '137M' : '8.0B',
        quantization_level: embed ? 'F16' : 'Q4_K_M',
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
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /':
      case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Ollama is running');
        return;
      case 'GET /api/version':
        return this.sendJson(res, 200, { version: '0.12.6' });
      case 'GET /api/tags':
        return this.sendJson(res, 200, {
          models: [...this.models].map(([name, modified]) => this.modelEntry(name, modified)),
        });
      case 'POST /api/show': {
        const name = (b.model ?? b.name) as string | undefined;
        if (!name) throw new JsonError(400, 'model is required');
        this.showCalls.push(name);
        if (!this.hasModel(name)) throw new JsonError(404, `model '${name}' not found`);
        const entry = this.modelEntry(fullModelName(name), this.models.get(fullModelName(name))!);
        const embed = this.isEmbeddingModel(name);
        const arch = entry.details.family;
        return this.sendJson(res, 200, {
          license: 'Apache License Version 2.0',
          modelfile: `FROM ${name}\n`,
          parameters: this.parametersText(name, embed),
          template: '{{ .Prompt }}',
          details: entry.details,
          model_info: {
            'general.architecture': arch,
            'general.parameter_count': embed ? 136727040 : 8030261248,
            [`${arch}.context_length`]: embed ? this.contextLength : 131072,
            [`${arch}.embedding_length`]: embed ? this.dimensionOf(name) : 4096,
          },
          capabilities: embed ? ['embedding'] : ['completion', 'tools'],
          modified_at: entry.modified_at,
        });
      }
      case 'POST /api/pull':
        return this.pull(res, b);
      case 'POST /api/embed':
        return this.embed(res, b);
      case 'GET /v1/models':
        return this.sendJson(res, 200, {
          object: 'list',
          data: [...this.models].map(([name, modified]) => ({
            id: name,
            object: 'model',
            created: Math.floor(modified.getTime() / 1000),
            owned_by: 'library',
          })),
        });
      case 'POST /v1/chat/completions':
        return this.chatCompletions(req, res, b);
      default:
        // Ollama (gin) answers unknown routes with a plain-text 404.
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found');
    }
  };

  private async embed(res: ServerResponse, b: Record<string, unknown>): Promise<void> {
    const started = process.hrtime.bigint();
    const model = this.requireModel(b.model);
    const inputs = embedInputs(b.input);
    const truncate = b.truncate !== false;
    let promptTokens = 0;
    const texts = inputs.map((text) => {
      const words = text.split(/\s+/).filter(Boolean);
      if (words.length > this.contextLength) {
        if (!truncate) throw new JsonError(400, 'the input length exceeds the context length');
        promptTokens += this.contextLength;
        return words.slice(0, this.contextLength).join(' ');
      }
      promptTokens += words.length;
      return text;
    });
    if (texts.length > 0) await this.runOnDevice(texts.length);
    const dim = this.ollamaFaults.wrongDimension ?? this.dimensionOf(model);
    this.embedModels.push(fullModelName(model));
    const embeddings = texts.map((t) =>
      this.vectors === 'fast' ? fastEmbedding(t, dim) : lexicalEmbedding(t, dim),
    );
    this.counters.embedCalls++;
    this.counters.embedInputs += texts.length;
    this.sendJson(res, 200, {
      model,
      embeddings,
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: 1_000_000,
      prompt_eval_count: promptTokens,
    });
  }

  private async pull(res: ServerResponse, b: Record<string, unknown>): Promise<void> {
    const name = (b.model ?? b.name) as string | undefined;
    if (!name) throw new JsonError(400, 'model is required');
    const total = 274302450;
    const digest = `sha256:${'0a109f422b47'.padEnd(64, '0')}`;
    this.addModel(name);
    if (b.stream === false) return this.sendJson(res, 200, { status: 'success' });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const lines = [
      { status: 'pulling manifest' },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: 0 },
      { status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: total },
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ];
    for (const line of lines) res.write(`${JSON.stringify(line)}\n`);
    res.end();
  }

  private async chatCompletions(
    req: IncomingMessage,
    res: ServerResponse,
    b: Record<string, unknown>,
  ): Promise<void> {
    this.chatRequests.push(b);
    const model = this.requireModel(b.model);
    if (!Array.isArray(b.messages) || b.messages.length === 0)
      throw new JsonError(400, 'invalid message format');
    const id = `chatcmpl-${Math.floor(Math.random() * 1000)}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = JSON.stringify(b.messages).split(/\s+/).length;
    const completionTokens = this.chat.tokens.length;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const base = { id, created, model, system_fingerprint: 'fp_ollama' };
    if (b.stream !== true) {
      await sleep(this.chat.intervalMs * this.chat.tokens.length);
      return this.sendJson(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: this.chat.tokens.join('') },
            finish_reason: 'stop',
          },
        ],
        usage,
      });
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let closed = false;
    req.socket.once('close', () => (closed = true));
    res.once('close', () => {
      if (!res.writableFinished) closed = true;
    });
    const send = (chunk: unknown) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    for (const token of this.chat.tokens) {
      if (this.chat.intervalMs > 0) await sleep(this.chat.intervalMs);
      if (closed) {
        this.counters.abortedStreams++;
        return;
      }
      send(chunk({ role: 'assistant', content: token }, null));
    }
    send(chunk({ role: 'assistant', content: '' }, 'stop'));
    const options = b.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    res.write('data: [DONE]\n\n');
    res.end();
  }
}

export async function startOllamaStandin(options?: OllamaStandinOptions): Promise<OllamaStandin> {
  return new OllamaStandin(options).start();
}
