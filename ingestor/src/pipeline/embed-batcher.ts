/**
 * One embedding queue for every document the ingestor works on at once. A burst of small files
 * (a passage or two each) would otherwise make one embed call per file; on a GPU a call of 32
 * texts costs about what a call of one does, so the device would idle exactly when a team drops a
 * folder of many small files. Passages of concurrent documents are coalesced into calls of up to
 * `batchSize` texts, at most `concurrency` calls in flight; a part-filled batch waits at most
 * `maxWaitMs` for more (only while a call slot is free: when all are busy, texts queue anyway).
 */

export type EmbedCall = (
  texts: string[],
  options: {
    signal: AbortSignal;
    /** Positions (in `texts`) the embedder had to cut to the model's context. */
    onTruncated: (positions: number[]) => void;
  },
) => Promise<number[][]>;

export interface EmbedBatcherOptions {
  batchSize: number;
  concurrency: number;
  maxWaitMs: number;
}

export interface EmbedRequestOptions {
  signal: AbortSignal;
  /** Called after each call that returned some of this request's vectors: `done` of `total`. */
  onProgress?: (done: number, total: number) => void;
  /** Called with how many of this request's texts the embedder cut to the model's context. */
  onTruncated?: (count: number) => void;
}

interface Request {
  texts: readonly string[];
  vectors: number[][];
  /** Next text not yet handed to a call. */
  next: number;
  done: number;
  queuedAt: number;
  settled: boolean;
  calls: Set<Call>;
  options: EmbedRequestOptions;
  resolve(vectors: number[][]): void;
  reject(err: unknown): void;
}

interface Item {
  request: Request;
  index: number;
}

interface Call {
  items: Item[];
  /** A retry of one document's share of a failed call: its failure is that document's. */
  alone: boolean;
  /** Aborted once every document in the call has settled (aborted or failed): nobody waits for it. */
  abort: AbortController;
}

export class EmbedBatcher {
  /** Requests with texts not yet handed to a call, in arrival order. */
  private pending: Request[] = [];
  private queuedTexts = 0;
  /** Shares of failed calls, each to be tried alone; they go before new batches. */
  private readonly retries: Item[][] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Calls made and texts sent (for logs and benchmarks). */
  readonly stats = { calls: 0, texts: 0 };

  constructor(
    private readonly embed: EmbedCall,
    private readonly options: EmbedBatcherOptions,
  ) {}

  /** One vector per text, in order; rejects with the signal's reason on abort. */
  embedTexts(texts: readonly string[], options: EmbedRequestOptions): Promise<number[][]> {
    if (options.signal.aborted) return Promise.reject(options.signal.reason as Error);
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise<number[][]>((resolve, reject) => {
      const request: Request = {
        texts,
        vectors: new Array<number[]>(texts.length),
        next: 0,
        done: 0,
        queuedAt: performance.now(),
        settled: false,
        calls: new Set(),
        options,
        resolve,
        reject,
      };
      const onAbort = () => this.settle(request, options.signal.reason);
      options.signal.addEventListener('abort', onAbort, { once: true });
      request.resolve = (v) => {
        options.signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
      request.reject = (err) => {
        options.signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      this.pending.push(request);
      this.queuedTexts += texts.length;
      this.pump();
    });
  }

  /** Start calls while a slot is free and a batch is full, or its oldest text has waited long enough. */
  private pump(): void {
    while (this.inFlight < this.options.concurrency) {
      const retry = this.retries.shift();
      if (retry) {
        this.start(retry, true);
        continue;
      }
      if (this.queuedTexts === 0) return;
      const waited = performance.now() - this.pending[0]!.queuedAt;
      if (this.queuedTexts < this.options.batchSize && waited < this.options.maxWaitMs) {
        this.timer ??= setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          Math.ceil(this.options.maxWaitMs - waited),
        );
        return;
      }
      this.start(this.take(), false);
    }
  }

  /** Up to batchSize texts, one per document in turn, so a long document does not hold back short ones. */
  private take(): Item[] {
    const items: Item[] = [];
    while (items.length < this.options.batchSize && this.pending.length > 0) {
      for (const request of this.pending) {
        if (items.length === this.options.batchSize) break;
        items.push({ request, index: request.next++ });
      }
      this.pending = this.pending.filter((r) => r.next < r.texts.length);
    }
    this.queuedTexts -= items.length;
    return items;
  }

  private start(items: Item[], alone: boolean): void {
    if (this.timer && this.queuedTexts === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const call: Call = { items, alone, abort: new AbortController() };
    for (const item of items) item.request.calls.add(call);
    this.inFlight++;
    this.stats.calls++;
    this.stats.texts += items.length;
    void this.embed(
      items.map((i) => i.request.texts[i.index]!),
      { signal: call.abort.signal, onTruncated: (positions) => this.truncated(call, positions) },
    )
      .then(
        (vectors) => this.deliver(call, vectors),
        (err: unknown) => this.failed(call, err),
      )
      .finally(() => {
        this.inFlight--;
        for (const item of items) item.request.calls.delete(call);
        this.pump();
      });
  }

  /** Route the embedder's "cut to the context" report to the documents the texts belong to. */
  private truncated(call: Call, positions: number[]): void {
    const counts = new Map<Request, number>();
    for (const p of positions) {
      const request = call.items[p]?.request;
      if (request) counts.set(request, (counts.get(request) ?? 0) + 1);
    }
    for (const [request, n] of counts) request.options.onTruncated?.(n);
  }

  private deliver(call: Call, vectors: number[][]): void {
    const touched = new Set<Request>();
    call.items.forEach((item, n) => {
      if (item.request.settled) return;
      item.request.vectors[item.index] = vectors[n]!;
      item.request.done++;
      touched.add(item.request);
    });
    for (const request of touched) {
      if (request.done === request.texts.length) {
        request.settled = true;
        request.resolve(request.vectors);
      } else request.options.onProgress?.(request.done, request.texts.length);
    }
  }

  private failed(call: Call, err: unknown): void {
    if (call.abort.signal.aborted) return; // everyone in it is gone already
    const live = [...new Set(call.items.map((i) => i.request))].filter((r) => !r.settled);
    if (call.alone || live.length === 1) {
      for (const request of live) this.settle(request, err);
      return;
    }
    // Several documents shared the call: try each one's share alone, so one document's bad input
    // (or one unlucky timeout) fails only that document, not every document it was batched with.
    for (const request of live) this.retries.push(call.items.filter((i) => i.request === request));
  }

  /** Reject a request (abort or failure): drop its queued texts, and calls only it was waiting for. */
  private settle(request: Request, reason: unknown): void {
    if (request.settled) return;
    request.settled = true;
    const idx = this.pending.indexOf(request);
    if (idx >= 0) {
      this.queuedTexts -= request.texts.length - request.next;
      this.pending.splice(idx, 1);
    }
    for (let i = this.retries.length - 1; i >= 0; i--)
      if (this.retries[i]![0]!.request === request) this.retries.splice(i, 1);
    for (const call of request.calls)
      if (call.items.every((i) => i.request.settled)) call.abort.abort(reason);
    request.reject(reason);
  }
}
