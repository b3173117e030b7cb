/**
 * A bound on the bytes of source files one ingestor holds at once (INGEST_MAX_BYTES_IN_FLIGHT).
 * INGEST_CONCURRENCY sizes the number of documents in flight for small files (they fill the
 * embedder's batches together); without a byte bound, 32 large PDFs would be read, parsed and
 * chunked side by side and outgrow the heap. Each job takes its file's size from this budget
 * before it reads the file and gives it back when the document is done (or failed).
 *
 * First come, first served: a large file waiting for room is not overtaken by later small ones
 * forever. A file larger than the whole budget waits for an empty budget and then runs alone.
 */

export class ByteBudget {
  private used = 0;
  private peakUsed = 0;
  private readonly queue: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('capacity must be positive');
  }

  /** Bytes taken now, and the most taken at once so far. */
  get inFlight(): number {
    return this.used;
  }
  get peak(): number {
    return this.peakUsed;
  }
  get waiting(): number {
    return this.queue.length;
  }

  /** Whether `bytes` would be granted at once (nobody queued, room left). */
  hasRoomFor(bytes: number): boolean {
    const take = Math.min(Math.max(0, bytes), this.capacity);
    return this.queue.length === 0 && this.used + take <= this.capacity;
  }

  /** Waits until `bytes` fit (all of the budget for a larger file); resolves to the release. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const take = Math.min(Math.max(0, bytes), this.capacity);
    if (this.hasRoomFor(take)) return Promise.resolve(this.take(take));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal!.reason as Error);
        // It may have been the head that held the others back.
        this.drain();
      };
      const entry = {
        bytes: take,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.take(take));
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  /** Takes the bytes at once (so the next decision sees them) and returns their release. */
  private take(bytes: number): () => void {
    this.used += bytes;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.used + this.queue[0]!.bytes <= this.capacity)
      this.queue.shift()!.grant();
  }
}

/**
 * Runs `work` (one document's ingestion) with its file's size taken from `budget`. The size is
 * the documents row's (`readSize`); a row that is gone takes nothing (the job finds that out itself).
 * `work` learns whether the budget had room at once: only then is what `readSize` read still
 * current (after a wait, the row may have changed meanwhile).
 */
export async function withBytesInFlight<T>(
  budget: ByteBudget | undefined,
  readSize: () => Promise<number | string | undefined>,
  signal: AbortSignal,
  work: (atOnce: boolean) => Promise<T>,
): Promise<T> {
  if (!budget) return work(false);
  const bytes = Number((await readSize()) ?? 0);
  const atOnce = budget.hasRoomFor(bytes);
  const release = await budget.acquire(bytes, signal);
  try {
    return await work(atOnce);
  } finally {
    release();
  }
}
