/**
 * How many tokens a chat model really gets, from Ollama's `/api/show`: the Modelfile's
 * `num_ctx` parameter when it sets one, otherwise the context Ollama runs every model with
 * (`OLLAMA_CONTEXT_LENGTH`, which /api/show cannot report), never more than the model was trained
 * for (`<architecture>.context_length`). Cached per model, so a chat turn costs no extra call.
 */

export interface ModelContextOptions {
  /** Ollama's base URL (not its /v1). */
  ollamaUrl: string;
  /** What Ollama uses when a model sets no `num_ctx` (OLLAMA_CONTEXT_LENGTH). */
  defaultLength: number;
  /** How long an answer is kept (default 5 minutes: a re-pulled model is seen soon enough). */
  ttlMs?: number;
  /** How long a failed look-up is kept before asking again (default 30 s). */
  failureTtlMs?: number;
  timeoutMs?: number;
  onError?: (model: string, err: unknown) => void;
}

export interface ModelContext {
  /** The context length for `model`, in tokens; the default when Ollama cannot say. */
  contextLength(model: string): Promise<number>;
}

interface ShowAnswer {
  parameters?: unknown;
  model_info?: unknown;
}

/** `num_ctx` from /api/show's `parameters` text (one `name value` pair a line). */
export function numCtxParameter(parameters: unknown): number | undefined {
  if (typeof parameters !== 'string') return undefined;
  const m = /^\s*num_ctx\s+(\d+)\s*$/m.exec(parameters);
  return m ? Number(m[1]) : undefined;
}

/** `<arch>.context_length` from /api/show's `model_info`: the longest context the model supports. */
export function trainedContextLength(modelInfo: unknown): number | undefined {
  if (!modelInfo || typeof modelInfo !== 'object') return undefined;
  const info = modelInfo as Record<string, unknown>;
  const arch = info['general.architecture'];
  const value = typeof arch === 'string' ? info[`${arch}.context_length`] : undefined;
  return typeof value === 'number' && value > 0 ? value : undefined;
}

export function effectiveContextLength(show: ShowAnswer, defaultLength: number): number {
  const configured = numCtxParameter(show.parameters) ?? defaultLength;
  const trained = trainedContextLength(show.model_info);
  return trained ? Math.min(configured, trained) : configured;
}

export function createModelContext(options: ModelContextOptions): ModelContext {
  const base = options.ollamaUrl.replace(/\/+$/, '');
  const ttl = options.ttlMs ?? 5 * 60_000;
  const failureTtl = options.failureTtlMs ?? 30_000;
  const cache = new Map<string, { value: Promise<number>; expires: number }>();

  async function lookUp(model: string): Promise<{ value: number; ok: boolean }> {
    try {
      const res = await fetch(`${base}/api/show`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!res.ok) throw new Error(`/api/show answered HTTP ${res.status}`);
      return {
        value: effectiveContextLength((await res.json()) as ShowAnswer, options.defaultLength),
        ok: true,
      };
    } catch (err) {
      options.onError?.(model, err);
      return { value: options.defaultLength, ok: false };
    }
  }

  return {
    contextLength(model) {
      const now = Date.now();
      const hit = cache.get(model);
      if (hit && hit.expires > now) return hit.value;
      // One look-up per model at a time: concurrent chat turns share it.
      const entry = { value: Promise.resolve(options.defaultLength), expires: now + ttl };
      entry.value = lookUp(model).then(({ value, ok }) => {
        if (!ok) entry.expires = Date.now() + failureTtl;
        return value;
      });
      cache.set(model, entry);
      return entry.value;
    },
  };
}
