import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError, type ApiClient, type DocumentEvent } from '../../lib/api.js';

export type LiveState = 'connecting' | 'live' | 'offline';

/**
 * The live status stream of rattg-documents (`GET /documents/events`): opened with a fresh
 * 60-second token, reopened with backoff after a drop (EventSource would retry with the expired
 * token), closed when the host leaves the page.
 */
export class DocumentStream implements ReactiveController {
  live: LiveState = 'connecting';
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = 1000;
  private client: ApiClient | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly handlers: {
      event: (ev: DocumentEvent) => void;
      /** Back after a drop: anything that changed meanwhile should be fetched once. */
      reconnected: () => void;
    },
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.close();
  }

  open(client: ApiClient): void {
    this.close();
    this.client = client;
    void this.connect();
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.client = null;
  }

  private set(live: LiveState): void {
    this.live = live;
    this.host.requestUpdate();
  }

  private async connect(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.set('connecting');
    let url: string;
    try {
      url = await client.eventsUrl();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // signed out: the container takes over
      this.scheduleReconnect();
      return;
    }
    if (client !== this.client) return;
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener('open', () => {
      this.set('live');
      if (this.retryDelay > 1000) this.handlers.reconnected();
      this.retryDelay = 1000;
    });
    source.addEventListener('document', (e) =>
      this.handlers.event(JSON.parse((e as MessageEvent<string>).data) as DocumentEvent),
    );
    source.addEventListener('error', () => {
      source.close();
      if (this.source === source) {
        this.source = null;
        this.scheduleReconnect();
      }
    });
  }

  private scheduleReconnect(): void {
    clearTimeout(this.retryTimer);
    this.set('offline');
    this.retryTimer = setTimeout(() => void this.connect(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
  }
}
