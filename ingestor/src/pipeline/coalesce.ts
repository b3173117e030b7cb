/**
 * Coalesces the writes of concurrent documents into shared requests (write-batcher.ts builds one
 * per Qdrant collection and one per database). Nagle-style, so it adds no wait of its own: what
 * arrives while `concurrency` requests are out leaves together in the next one, and with a free
 * slot a write leaves at once (after the current tick, so writes that became ready together, e.g.
 * the documents of one embed call, share it).
 *
 * - Results are routed back by position: `flush(items)` returns one result per item, in order.
 * - A failed shared request settles nobody as written: each of its items is flushed again alone,
 *   so only the item at fault fails (and a service that is down fails each one, for its own retry).
 * - Abort: a queued item leaves the queue and rejects with the signal's reason; one already sent
 *   rejects at once too (the writes are idempotent, so whether that request lands does not matter).
 */
export interface CoalesceOptions<I> {
  /** Most weight per shared request; an item heavier than this goes alone. */
  maxWeight: number;
  /** Most items per shared request. */
  maxItems: number;
  /** Shared requests in flight at once. */
  concurrency: number;
  /** An item's weight (default 1). */
  weight?: (item: I) => number;
}

interface Entry<I, O> {
  item: I;
  weight: number;
  settle(result: { ok: true; value: O } | { ok: false; error: unknown }): void;
}

export class Coalescer<I, O> {
  private readonly queue: Entry<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Shared requests sent (items ≥ 2) and items sent in them, and lone retries after a failure. */
  readonly stats = { requests: 0, items: 0, split: 0 };

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly options: CoalesceOptions<I>,
  ) {}

  run(item: I, signal?: AbortSignal): Promise<O> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<O>((resolve, reject) => {
      let done = false;
      const onAbort = () => {
        const at = this.queue.indexOf(entry);
        if (at >= 0) this.queue.splice(at, 1);
        entry.settle({ ok: false, error: signal!.reason });
      };
      const entry: Entry<I, O> = {
        item,
        weight: this.options.weight?.(item) ?? 1,
        settle(result) {
          if (done) return;
          done = true;
          signal?.removeEventListener('abort', onAbort);
          if (result.ok) resolve(result.value);
          else reject(result.error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The next request's items, first come first served, within maxItems and maxWeight. */
  private take(): Entry<I, O>[] {
    const { maxItems, maxWeight } = this.options;
    const batch = [this.queue.shift()!];
    let weight = batch[0]!.weight;
    while (this.queue.length > 0 && batch.length < maxItems && weight + this.queue[0]!.weight <= maxWeight) {
      const next = this.queue.shift()!;
      weight += next.weight;
      batch.push(next);
    }
    return batch;
  }

  private async send(batch: Entry<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      this.stats.requests++;
      this.stats.items += batch.length;
    }
    try {
      const out = await this.flush(batch.map((e) => e.item));
      batch.forEach((e, i) => e.settle({ ok: true, value: out[i]! }));
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.settle({ ok: false, error });
        return;
      }
    }
    // The shared request failed: nobody's write counts. Each alone, so one bad item fails alone.
    this.stats.split++;
    await Promise.all(
      batch.map(async (e) => {
        try {
          const [value] = await this.flush([e.item]);
          e.settle({ ok: true, value: value! });
        } catch (error) {
          e.settle({ ok: false, error });
        }
      }),
    );
  }
}
