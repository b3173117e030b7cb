import { Ollama } from 'ollama';
import type { Config } from '../config.js';
import { classifyUpstreamStatus, networkCodeOf } from '../errors.js';
import { retry, type RetryOptions } from '../retry.js';
import {
  EmbedDimensionMismatchError,
  EmbedModelNotFoundError,
  OllamaRequestError,
  OllamaServerError,
  OllamaTimeoutError,
  OllamaUnavailableError,
} from './errors.js';

export type EmbedderConfig = Pick<
  Config,
  | 'OLLAMA_URL'
  | 'EMBED_MODEL'
  | 'EMBED_DIM'
  | 'EMBED_DOCUMENT_PREFIX'
  | 'EMBED_QUERY_PREFIX'
  | 'EMBED_BATCH_SIZE'
  | 'EMBED_CONCURRENCY'
  | 'EMBED_TIMEOUT'
>;

export interface EmbedOptions {
  signal?: AbortSignal;
  /**
   * Called with the positions (in `texts`) of inputs longer than the model's context, which the
   * server cut to fit (only their beginning reaches the vector). Lets the caller warn per document.
   */
  onTruncated?: (indices: number[]) => void;
  /**
   * Retry each batch on its own while its failures are transient (a 503 on batch 7 of 40 retries
   * batch 7; the others keep their vectors). Without it, the first failure ends the call.
   */
  retry?: Omit<RetryOptions, 'signal'>;
}

export interface ModelInfo {
  model: string;
  dimension: number;
  /** Tokens the model reads per input (Ollama's `<arch>.context_length`, capped by num_ctx), when known. */
  contextLength?: number;
}

export interface Embedder {
  readonly model: string;
  readonly dimension: number;
  /** One vector per text, in order. Texts are sent with EMBED_DOCUMENT_PREFIX in bounded parallel batches. */
  embedDocuments(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
  /** The vector of a search query (EMBED_QUERY_PREFIX). */
  embedQuery(text: string, options?: EmbedOptions): Promise<number[]>;
  /** Start-up check: the model is pulled and returns EMBED_DIM-sized vectors. Throws an EmbedderError otherwise. */
  checkModel(options?: EmbedOptions): Promise<ModelInfo>;
}

/** The `ollama` client's error for non-2xx answers (not exported under a stable name, so duck-typed). */
function httpStatusOf(err: unknown): number | undefined {
  const s = (err as { status_code?: unknown } | null)?.status_code;
  return typeof s === 'number' ? s : undefined;
}

export function createEmbedder(config: EmbedderConfig): Embedder {
  const url = config.OLLAMA_URL.replace(/\/+$/, '');
  const model = config.EMBED_MODEL;
  const timeoutMs = config.EMBED_TIMEOUT * 1000;

  /** Turns whatever the client threw into an error a person can act on. */
  function translate(err: unknown, caller: AbortSignal | undefined, timeout: AbortSignal): unknown {
    // The caller gave up: propagate their reason unchanged, it is not Ollama's fault.
    if (caller?.aborted) return caller.reason;
    if (timeout.aborted) {
      return new OllamaTimeoutError(
        `Ollama at ${url} did not answer within ${config.EMBED_TIMEOUT}s (EMBED_TIMEOUT)`,
        {
          url,
        },
      );
    }
    const status = httpStatusOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (status !== undefined) {
      // Ollama: `model "x" not found, try pulling it first` (embed) / `model 'x' not found` (show).
      if (status === 404 && /not found/i.test(message)) return new EmbedModelNotFoundError(model);
      // 5xx, 429, 408 and the runner failures Ollama reports as a 400 are transient.
      if (classifyUpstreamStatus(status, message).retryable)
        return new OllamaServerError(`Ollama at ${url} failed: ${message} (HTTP ${status})`, { url, status });
      return new OllamaRequestError(`Ollama at ${url} rejected the request: ${message} (HTTP ${status})`, {
        url,
        status,
      });
    }
    const code = networkCodeOf(err);
    if (code === 'ECONNREFUSED')
      return new OllamaUnavailableError(`Ollama at ${url} refused the connection`, { url, code });
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new OllamaUnavailableError(`Ollama at ${url} could not be found (DNS lookup failed)`, {
        url,
        code,
      });
    }
    if (err instanceof TypeError || code !== undefined) {
      return new OllamaUnavailableError(`Ollama at ${url} could not be reached (${code ?? message})`, {
        url,
        code,
      });
    }
    return err;
  }

  /**
   * One Ollama call under EMBED_TIMEOUT and the caller's signal. The client has no per-call
   * signal, so a fresh client per call gets a fetch that carries both; it is only a small object.
   */
  async function call<T>(fn: (client: Ollama) => Promise<T>, caller: AbortSignal | undefined): Promise<T> {
    caller?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    const client = new Ollama({
      host: url,
      fetch: (input, init) =>
        fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
    });
    try {
      return await fn(client);
    } catch (err) {
      throw translate(err, caller, timeout);
    }
  }

  /**
   * One /api/embed call. Sent with `truncate: false`, so an over-long input is refused instead of
   * silently cut (Ollama answers 400 "input length exceeds the context length"); then each input
   * goes alone, and those refused again are sent with `truncate: true` and reported cut.
   */
  async function embedBatch(
    inputs: string[],
    signal: AbortSignal | undefined,
    truncated?: (positions: number[]) => void,
  ): Promise<number[][]> {
    let res;
    try {
      res = await call((c) => c.embed({ model, input: inputs, truncate: false }), signal);
    } catch (err) {
      if (!isContextOverflow(err)) throw err;
      const cut: number[] = [];
      const vectors: number[][] = [];
      for (let i = 0; i < inputs.length; i++) {
        const one = [inputs[i]!];
        const v = await call((c) => c.embed({ model, input: one, truncate: false }), signal).catch(
          async (e: unknown) => {
            if (!isContextOverflow(e)) throw e;
            cut.push(i);
            return call((c) => c.embed({ model, input: one, truncate: true }), signal);
          },
        );
        vectors.push(...checked(v.embeddings, 1));
      }
      truncated?.(cut);
      return vectors;
    }
    return checked(res.embeddings, inputs.length);
  }

  /** The answer has one vector per input, each EMBED_DIM long. */
  function checked(embeddings: number[][] | undefined, expected: number): number[][] {
    if (!Array.isArray(embeddings) || embeddings.length !== expected) {
      throw new OllamaServerError(
        `Ollama at ${url} returned ${embeddings?.length ?? 0} embeddings for ${expected} inputs`,
      );
    }
    for (const e of embeddings) {
      if (e.length !== config.EMBED_DIM)
        throw new EmbedDimensionMismatchError(model, config.EMBED_DIM, e.length);
    }
    return embeddings;
  }

  function isContextOverflow(err: unknown): boolean {
    return err instanceof OllamaRequestError && /context length/i.test(err.message);
  }

  async function embedDocuments(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    const size = config.EMBED_BATCH_SIZE;
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += size) {
      batches.push(texts.slice(i, i + size).map((t) => config.EMBED_DOCUMENT_PREFIX + t));
    }
    const cut: number[] = [];
    const results: number[][][] = new Array(batches.length);
    // First failure stops the other lanes: no point embedding the rest of a document that fails.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    let next = 0;
    let failure: { err: unknown } | undefined;
    const lane = async () => {
      while (!failure && next < batches.length) {
        const i = next++;
        try {
          const batch = batches[i]!;
          const onCut = (positions: number[]) => cut.push(...positions.map((p) => i * size + p));
          results[i] = options.retry
            ? await retry(() => embedBatch(batch, signal, onCut), { ...options.retry, signal })
            : await embedBatch(batch, signal, onCut);
        } catch (err) {
          if (!failure) {
            failure = { err: options.signal?.aborted ? options.signal.reason : err };
            stop.abort(err);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.EMBED_CONCURRENCY, batches.length) }, lane));
    if (failure) throw failure.err;
    if (cut.length > 0) options.onTruncated?.(cut.sort((a, b) => a - b));
    return results.flat();
  }

  async function embedQuery(text: string, options: EmbedOptions = {}): Promise<number[]> {
    const [vector] = await embedBatch([config.EMBED_QUERY_PREFIX + text], options.signal);
    return vector!;
  }

  async function checkModel(options: EmbedOptions = {}): Promise<ModelInfo> {
    const shown = await call((c) => c.show({ model }), options.signal);
    const probe = await call(
      (c) => c.embed({ model, input: [config.EMBED_QUERY_PREFIX + 'dimension check'] }),
      options.signal,
    );
    const dimension = probe.embeddings[0]?.length ?? 0;
    if (dimension !== config.EMBED_DIM)
      throw new EmbedDimensionMismatchError(model, config.EMBED_DIM, dimension);
    const contextLength = contextLengthOf(shown);
    return { model, dimension, ...(contextLength ? { contextLength } : {}) };
  }

  return { model, dimension: config.EMBED_DIM, embedDocuments, embedQuery, checkModel };
}

/**
 * The tokens a model reads per input, from /api/show: `model_info["<arch>.context_length"]`, or
 * less when the Modelfile sets a smaller `num_ctx` (Ollama runs the model with that).
 */
export function contextLengthOf(shown: { model_info?: unknown; parameters?: unknown }): number | undefined {
  const info = (shown.model_info ?? {}) as Record<string, unknown>;
  let ctx: number | undefined;
  for (const [key, value] of Object.entries(info)) {
    if (key.endsWith('.context_length') && typeof value === 'number' && value > 0) ctx = value;
  }
  const numCtx = /(?:^|\n)\s*num_ctx\s+(\d+)/.exec(
    typeof shown.parameters === 'string' ? shown.parameters : '',
  );
  const n = numCtx ? Number(numCtx[1]) : undefined;
  if (n && n > 0) ctx = ctx ? Math.min(ctx, n) : n;
  return ctx;
}
