import pg from 'pg';

/**
 * One LISTEN connection that keeps itself open: `live` is true only while it is connected and
 * listening on every channel, so a cache that depends on its announcements can stop serving the
 * moment one could be missed. It reconnects with backoff (0.5 s doubling to 10 s) and calls
 * `onLive(false)` / `onLive(true)` at each change, so the caches can be emptied both times.
 */
export interface ListenerOptions {
  connectionString: string;
  channels: readonly string[];
  onNotification: (channel: string, payload: string) => void;
  onLive: (live: boolean) => void;
  onError: (err: unknown, retryMs: number) => void;
}

export interface Listener {
  readonly live: boolean;
  /** Resolves once listening (or when closed); later failures reconnect by themselves. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function startListener(options: ListenerOptions): Listener {
  let client: pg.Client | null = null;
  let live = false;
  let closed = false;
  let retryMs = 500;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  function setLive(value: boolean): void {
    if (live === value) return;
    live = value;
    options.onLive(value);
  }

  function lost(c: pg.Client, err: unknown): void {
    if (client !== c) return;
    client = null;
    setLive(false);
    c.end().catch(() => {});
    if (closed) return;
    options.onError(err, retryMs);
    timer = setTimeout(connect, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, 10_000);
  }

  function connect(): void {
    if (closed) return;
    // keepAlive: a connection silently cut (a network partition) is noticed, not trusted forever.
    const c = new pg.Client({ connectionString: options.connectionString, keepAlive: true });
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, new Error('LISTEN connection ended')));
    c.on('notification', (msg) => {
      if (msg.payload !== undefined) options.onNotification(msg.channel, msg.payload);
    });
    c.connect()
      .then(async () => {
        for (const channel of options.channels) await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        if (client !== c) return;
        retryMs = 500;
        setLive(true);
        markReady();
      })
      .catch((err: unknown) => lost(c, err));
  }

  connect();
  return {
    get live() {
      return live;
    },
    ready,
    async close() {
      closed = true;
      clearTimeout(timer);
      setLive(false);
      markReady();
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
