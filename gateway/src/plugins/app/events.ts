import fp from 'fastify-plugin';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import pg from 'pg';

/**
 * The last event a live stream gets when this gateway shuts down: the client (EventSource
 * reconnects by itself after `retry`) reconnects, to another replica or to this one restarted.
 */
export const SHUTDOWN_EVENT = `event: shutdown\ndata: ${JSON.stringify({ reason: 'The server is restarting; reconnect' })}\n\n`;

/** A change announced by Postgres on `document_status` (see migration 000002). */
export interface DocumentEvent {
  id: string;
  op: 'insert' | 'update' | 'delete';
  ownerId: string | null;
  access: string;
  filename: string;
  status: string;
  progress: number;
  error: string | null;
  /** When a `waiting` document is tried again (migration 20261201000100). */
  nextAttemptAt?: string | null;
  chunkCount: number;
  indexedAt: string | null;
  updatedAt: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Document status changes from any process; emits 'document' with a DocumentEvent. */
    documentEvents: EventEmitter<{ document: [DocumentEvent] }>;
    /** Resolves once this gateway is LISTENing (rejects while Postgres is unreachable). */
    listenDocumentEvents(): Promise<void>;
    /** Registers an open event stream, ended with SHUTDOWN_EVENT on close; returns its un-register. */
    trackEventStream(res: ServerResponse): () => void;
  }
}

/**
 * One LISTEN connection per gateway, shared by all SSE clients, opened when the first client
 * arrives; it reconnects with backoff when Postgres restarts while clients are listening.
 */
export default fp(
  async (fastify) => {
    const events = new EventEmitter<{ document: [DocumentEvent] }>();
    events.setMaxListeners(0);
    fastify.decorate('documentEvents', events);

    let client: pg.Client | null = null;
    let listening: Promise<void> | null = null;
    let closed = false;
    let retryMs = 500;
    let timer: NodeJS.Timeout | undefined;

    function lost(c: pg.Client, err: unknown): void {
      if (client !== c) return;
      client = null;
      listening = null;
      c.end().catch(() => {});
      if (closed || events.listenerCount('document') === 0) return;
      fastify.log.warn({ err }, `document events: LISTEN connection lost; retrying in ${retryMs} ms`);
      timer = setTimeout(() => void fastify.listenDocumentEvents().catch(() => {}), retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    }

    async function connect(): Promise<void> {
      const c = new pg.Client({ connectionString: fastify.config.DATABASE_URL });
      client = c;
      c.on('error', (err) => lost(c, err));
      c.on('end', () => lost(c, new Error('connection ended')));
      c.on('notification', (msg) => {
        if (msg.channel !== 'document_status' || !msg.payload) return;
        try {
          events.emit('document', JSON.parse(msg.payload) as DocumentEvent);
        } catch (err) {
          fastify.log.warn({ err }, 'document events: bad payload');
        }
      });
      await c.connect();
      await c.query('LISTEN document_status');
      retryMs = 500;
    }

    fastify.decorate('listenDocumentEvents', () => {
      if (closed) return Promise.reject(new Error('closing'));
      listening ??= connect().catch((err: unknown) => {
        if (client) lost(client, err);
        listening = null;
        throw err;
      });
      return listening;
    });

    // Open SSE responses never end by themselves: without this, `server.close()` waits for them
    // and SIGTERM leaves the gateway running until Compose kills it (issue #11).
    const streams = new Set<ServerResponse>();
    fastify.decorate('trackEventStream', (res: ServerResponse) => {
      streams.add(res);
      return () => void streams.delete(res);
    });
    // preClose runs before the server stops accepting and waits for connections to end.
    fastify.addHook('preClose', async () => {
      closed = true;
      for (const res of streams) {
        if (!res.writableEnded) res.end(SHUTDOWN_EVENT);
        // A client that does not read would hold the socket open; it has had its last event.
        res.once('finish', () => res.socket?.destroySoon());
      }
      streams.clear();
    });

    fastify.addHook('onClose', async () => {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    });
  },
  { name: 'document-events', dependencies: ['config'] },
);
