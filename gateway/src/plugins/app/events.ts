import fp from 'fastify-plugin';
import { EventEmitter } from 'node:events';
import pg from 'pg';

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
