import fp from 'fastify-plugin';
import { migrationsCurrent, readIngestorHealth, rebuildSummary } from '@rattgllm/core';
import { dependencyReason, scrubMessage } from '../../lib/public-error.js';

export type DependencyStatus = 'ok' | 'degraded' | 'down';

export interface DependencyCheck {
  status: DependencyStatus;
  /** Why it is not ok, in words, never an address. */
  reason?: string;
}

export interface ReadinessCheckOptions {
  /**
   * The gateway cannot serve its core (accounts, documents, uploads) while this is down: /ready
   * answers 503. Only Postgres is; without search, chat still answers (RAG_ON_RETRIEVAL_ERROR).
   */
  core?: boolean;
}

export interface ReadinessReport {
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, DependencyCheck>;
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: {
      /**
       * Adds a dependency to /ready. The hook for more: e.g. the ingestor's liveness (heartbeat
       * row) once it publishes one — `fastify.readiness.add('ingestor', check)`.
       */
      add(name: string, check: () => Promise<DependencyCheck>, options?: ReadinessCheckOptions): void;
      report(): Promise<ReadinessReport>;
    };
  }
}

/** Longest a single check may take; a dependency that does not answer in time is `down`. */
const CHECK_TIMEOUT_MS = 2_000;
/** A successful embed probe is cached this long, so a probe every few seconds costs the embedder little. */
const EMBED_CHECK_TTL_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const down = (err: unknown): DependencyCheck => ({ status: 'down', reason: dependencyReason(err) });

/**
 * `/ready` reports every dependency with `ok | degraded | down` and a reason: Postgres (and its
 * migrations), Qdrant, the embedder, the chat upstream and the ingestors (heartbeat rows). Checks run in parallel, each bounded.
 */
export default fp(
  async (fastify) => {
    const checks = new Map<string, { check: () => Promise<DependencyCheck>; core: boolean }>();
    const readiness = {
      add(name: string, check: () => Promise<DependencyCheck>, options: ReadinessCheckOptions = {}) {
        checks.set(name, { check, core: options.core ?? false });
      },
      async report(): Promise<ReadinessReport> {
        const entries = await Promise.all(
          [...checks].map(async ([name, { check, core }]) => {
            const result = await withTimeout(check(), name).catch(down);
            return [name, result, core] as const;
          }),
        );
        const coreDown = entries.some(([, r, core]) => core && r.status === 'down');
        const allOk = entries.every(([, r]) => r.status === 'ok');
        return {
          status: coreDown ? 'unavailable' : allOk ? 'ok' : 'degraded',
          checks: Object.fromEntries(entries.map(([name, r]) => [name, r])),
        };
      },
    };
    fastify.decorate('readiness', readiness);

    readiness.add(
      'postgres',
      async () => {
        await fastify.db.raw('select 1');
        return (await migrationsCurrent(fastify.db))
          ? { status: 'ok' }
          : { status: 'down', reason: 'migrations pending: run `npm run migrate`' };
      },
      { core: true },
    );

    readiness.add('qdrant', async () => {
      // A count in the collection answers both "is Qdrant up" and "does the collection exist";
      // a missing collection is re-created by the vector index on the spot, so only a failed
      // repair shows here (degraded: search finds nothing until it is re-created).
      try {
        // The collection search uses now (behind the alias once the model has been changed).
        const { index } = await fastify.rag.generations.active();
        await index.countDocumentPoints('00000000-0000-0000-0000-000000000000');
        // A model change under way shows here (admins see it in System status).
        const rebuild = await rebuildSummary(fastify.db, fastify.config.QDRANT_COLLECTION).catch(
          () => undefined,
        );
        return rebuild ? { status: 'ok', reason: rebuild } : { status: 'ok' };
      } catch (err) {
        const e = err as { upstreamStatus?: unknown; repair?: unknown };
        if (e.repair === 'collection' || e.upstreamStatus === 404)
          return {
            status: 'degraded',
            reason: 'the collection is missing; search finds nothing until it is re-created',
          };
        return down(err);
      }
    });

    let embedCache: { at: number; result: DependencyCheck } | undefined;
    readiness.add('embedder', async () => {
      if (embedCache && Date.now() - embedCache.at < EMBED_CHECK_TTL_MS) return embedCache.result;
      let result: DependencyCheck;
      try {
        await fastify.rag.embedder.checkModel({ signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
        result = { status: 'ok' };
      } catch (err) {
        result = down(err);
      }
      // Only success is cached: a failing embedder is seen at once, and so is its recovery.
      embedCache = result.status === 'ok' ? { at: Date.now(), result } : undefined;
      return result;
    });

    readiness.add('chat', async () => {
      const models = new Set(
        (await fastify.rag.llm.listModels(AbortSignal.timeout(CHECK_TIMEOUT_MS))).map((m) => m.id),
      );
      const missing = [...new Set(fastify.pipelines.list().map((p) => p.chatModel))].filter(
        (m) => !models.has(m) && !models.has(`${m}:latest`),
      );
      return missing.length
        ? { status: 'degraded', reason: `chat model not available upstream: ${missing.join(', ')}` }
        : { status: 'ok' };
    });

    // The ingestors' heartbeat rows (core's ingestorHealth): documents are not processed while
    // none beats, but the gateway still serves everything it has, so never `core`.
    readiness.add('ingestor', async () => {
      const health = await readIngestorHealth(fastify.db);
      return health.status === 'ok'
        ? { status: 'ok' }
        : { status: health.status, reason: scrubMessage(health.reason) };
    });
  },
  { name: 'readiness', dependencies: ['db', 'rag', 'pipelines'] },
);
