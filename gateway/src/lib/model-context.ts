/**
 * How many tokens a chat model really gets, from Ollama's `/api/show`: the Modelfile's
 * `num_ctx` parameter when it sets one, otherwise the context Ollama runs every model with
 * (`OLLAMA_CONTEXT_LENGTH`, which /api/show cannot report), never more than the model was trained
 * for (`<architecture>.context_length`). Kept per model and refreshed in the background, so a chat
 * turn costs no extra call (only a model's very first turn waits for one).
 */

export interface ModelContextOptions {
  /** Ollama's base URL (not its /v1). */
  ollamaUrl: string;
  /** What Ollama uses when a model sets no `num_ctx` (OLLAMA_CONTEXT_LENGTH). */
  defaultLength: number;
  /**
   * How long an answer is fresh (default 5 minutes: a re-pulled model is seen soon enough). After
   * that it is still served while a look-up runs in the background: no chat turn but a model's
   * first waits for /api/show.
   */
  ttlMs?: number;
  /** How long after a failed look-up it is tried again (default 30 s); the known value stays. */
  failureTtlMs?: number;
  timeoutMs?: number;
  onError?: (model: string, err: unknown) => void;
  /** The clock (tests). */
  now?: () => number;
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

interface Known {
  value: number;
  /** After this the value is still served, but a look-up runs in the background. */
  fresh: number;
  refreshing: boolean;
}

export function createModelContext(options: ModelContextOptions): ModelContext {
  const base = options.ollamaUrl.replace(/\/+$/, '');
  const ttl = options.ttlMs ?? 5 * 60_000;
  const failureTtl = options.failureTtlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const known = new Map<string, Known>();
  // The first look-up of a model, shared by the chat turns that arrive while it runs.
  const first = new Map<string, Promise<number>>();

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

  /** Stale-while-revalidate: the known value now, a fresh one for the turns after this. */
  function refresh(model: string, entry: Known): void {
    entry.refreshing = true;
    void lookUp(model).then(({ value, ok }) => {
      entry.refreshing = false;
      // A failure keeps what was known (it was logged) and asks again after failureTtl.
      if (ok) entry.value = value;
      entry.fresh = now() + (ok ? ttl : failureTtl);
    });
  }

  return {
    contextLength(model) {
      const entry = known.get(model);
      if (entry) {
        if (entry.fresh <= now() && !entry.refreshing) refresh(model, entry);
        return Promise.resolve(entry.value);
      }
      // Only the very first turn for a model waits for Ollama.
      let pending = first.get(model);
      if (!pending) {
        pending = lookUp(model).then(({ value, ok }) => {
          known.set(model, { value, fresh: now() + (ok ? ttl : failureTtl), refreshing: false });
          first.delete(model);
          return value;
        });
        first.set(model, pending);
      }
      return pending;
    },
  };
}
