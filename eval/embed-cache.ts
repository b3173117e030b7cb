/**
 * An embedding cache in front of any Ollama-compatible embedder: `/api/embed` answers come from a
 * file when the same model has embedded the same text before, everything else is forwarded.
 * Re-running `npm run eval` after a retrieval change then costs the pipeline's own work, not the
 * model's (the full SciFact corpus is ~12,000 passages: minutes on 2 cores, every time).
 *
 * The key is sha256(model, truncate flag, text), so a prefix change or another model misses; the
 * model's answer is stored as float64, so a hit returns exactly what the model returned. The file
 * (`<dir>/<model>.bin`) is append-only: 32-byte key, uint32 dimension, the vector.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface EmbedBody {
  model?: unknown;
  input?: unknown;
  truncate?: unknown;
}

/** The upstream's own error answer, passed through unchanged. */
export class UpstreamAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upstream answered ${status}`);
  }
}

const keyOf = (model: string, truncate: boolean, text: string) =>
  createHash('sha256')
    .update(`${model}\0${truncate ? 1 : 0}\0${text}`)
    .digest();

export class EmbeddingCache {
  private readonly vectors = new Map<string, number[]>();
  private server: Server | undefined;
  private loadedModels = new Set<string>();
  /** Writes are chained so records never interleave. */
  private writing: Promise<unknown> = Promise.resolve();
  readonly counters = { hits: 0, misses: 0 };

  constructor(
    private readonly upstream: string,
    private readonly dir: string,
    /**
     * `--model-context N`: /api/show answers claim the model reads N tokens, so the ingestor
     * sizes chunks for N (an ablation: chunks larger than the model reads, their tails cut).
     */
    private readonly claimContext?: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  private file(model: string): string {
    return join(this.dir, `${model.replace(/[^\w.-]/g, '_')}.bin`);
  }

  private async load(model: string): Promise<void> {
    if (this.loadedModels.has(model)) return;
    this.loadedModels.add(model);
    const buf = await readFile(this.file(model)).catch(() => Buffer.alloc(0));
    let at = 0;
    // A record cut short (a run killed mid-write) ends the file's usable part.
    while (at + 36 <= buf.length) {
      const dim = buf.readUInt32LE(at + 32);
      const end = at + 36 + dim * 8;
      if (end > buf.length) break;
      const key = buf.subarray(at, at + 32).toString('hex');
      const v = new Array<number>(dim);
      for (let i = 0; i < dim; i++) v[i] = buf.readDoubleLE(at + 36 + i * 8);
      this.vectors.set(key, v);
      at = end;
    }
  }

  private store(model: string, keys: Buffer[], vectors: number[][]): void {
    const records = keys.map((k, i) => {
      const v = vectors[i]!;
      const rec = Buffer.alloc(36 + v.length * 8);
      k.copy(rec, 0);
      rec.writeUInt32LE(v.length, 32);
      v.forEach((x, j) => rec.writeDoubleLE(x, 36 + j * 8));
      this.vectors.set(k.toString('hex'), v);
      return rec;
    });
    this.writing = this.writing
      .then(() => appendFile(this.file(model), Buffer.concat(records)))
      .catch(() => {});
  }

  async start(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    this.server = createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.writing;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    try {
      if (req.method === 'POST' && req.url === '/api/embed') {
        const answered = await this.embed(raw);
        if (answered) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answered));
          return;
        }
      }
      await this.forward(req, raw, res);
    } catch (err) {
      if (err instanceof UpstreamAnswer) {
        res.writeHead(err.status, { 'content-type': 'application/json' });
        res.end(err.body);
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `embedding cache: ${(err as Error).message}` }));
    }
  }

  /** Cached vectors for every input, the misses fetched in one upstream call; null: forward as is. */
  private async embed(raw: Buffer): Promise<Record<string, unknown> | null> {
    const body = JSON.parse(raw.toString('utf8')) as EmbedBody;
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (typeof body.model !== 'string' || !Array.isArray(inputs) || inputs.some((x) => typeof x !== 'string'))
      return null;
    const model = body.model;
    const truncate = body.truncate !== false;
    await this.load(model);
    const texts = inputs as string[];
    const keys = texts.map((t) => keyOf(model, truncate, t));
    const found = keys.map((k) => this.vectors.get(k.toString('hex')));
    const missing = found.flatMap((v, i) => (v ? [] : [i]));
    this.counters.hits += texts.length - missing.length;
    this.counters.misses += missing.length;
    let promptEvalCount = 0;
    if (missing.length > 0) {
      const r = await fetch(`${this.upstream}/api/embed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, input: missing.map((i) => texts[i]) }),
      });
      // A refusal (e.g. over-long input with truncate false) is the model's answer: not cached.
      if (!r.ok) throw new UpstreamAnswer(r.status, await r.text());
      const json = (await r.json()) as { embeddings: number[][]; prompt_eval_count?: number };
      promptEvalCount = json.prompt_eval_count ?? 0;
      missing.forEach((i, j) => (found[i] = json.embeddings[j]));
      this.store(
        model,
        missing.map((i) => keys[i]!),
        missing.map((_, j) => json.embeddings[j]!),
      );
    }
    // prompt_eval_count covers the inputs the model read in this call (hits cost nothing).
    return { model, embeddings: found, prompt_eval_count: promptEvalCount };
  }

  private async forward(req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const r = await fetch(`${this.upstream}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: raw }),
    });
    let body = Buffer.from(await r.arrayBuffer());
    if (this.claimContext && req.url === '/api/show' && r.ok) {
      const shown = JSON.parse(body.toString('utf8')) as {
        model_info?: Record<string, unknown>;
        parameters?: string;
      };
      for (const key of Object.keys(shown.model_info ?? {}))
        if (key.endsWith('.context_length')) shown.model_info![key] = this.claimContext;
      if (shown.parameters)
        shown.parameters = shown.parameters.replace(/num_ctx\s+\d+/, `num_ctx ${this.claimContext}`);
      body = Buffer.from(JSON.stringify(shown));
    }
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  }
}
