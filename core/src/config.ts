import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * The one environment schema of rattgllm. Every process calls `loadConfig()` once at start;
 * nothing else in the code base reads `process.env`.
 */

/** Values that let the demo start but must never reach production unchanged. */
export const INSECURE_DEFAULTS = {
  JWT_SECRET: 'supersecretkey',
  ADMIN_PASSWORD: 'admin',
  MINIO_ROOT_USER: 'minioadmin',
  MINIO_ROOT_PASSWORD: 'minioadmin',
  OPENWEBUI_API_KEY: 'change-me-openwebui-service-key',
  OPENWEBUI_USER_JWT_SECRET: 'change-me-openwebui-user-jwt-secret',
  POSTGRES_PASSWORD: 'changeme',
} as const;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** `12h`, `30m`, `45s`, `2d` or a plain number of seconds → seconds. */
export const duration = z
  .string()
  .regex(/^\d+\s*[smhd]?$/, 'expected a duration such as 45s, 30m, 12h or 2d')
  .transform((v) => {
    const n = Number.parseInt(v, 10);
    const unit = v.trim().slice(-1);
    const factor = unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 1;
    return n * factor;
  });

/**
 * Documents one ingestor works on at once, unless INGEST_CONCURRENCY says otherwise. A job mostly
 * waits (object store, embedder, Qdrant, Postgres), so several per core keep the CPU busy; and
 * small files (a passage or two each) only fill the embedder's batches when about a batch's worth
 * of documents is in flight together.
 */
export function defaultIngestConcurrency(cores: number, embedBatchSize: number): number {
  return Math.min(64, Math.max(4 * cores, embedBatchSize));
}

/** An embedding prefix: `none` means no prefix (so does an empty value, see parseConfig). */
const prefix = z.string().transform((v) => (v.trim().toLowerCase() === 'none' ? '' : v));

/** Variables whose empty value is a value, not "unset": `EMBED_QUERY_PREFIX=` means no prefix. */
const EMPTY_IS_A_VALUE = new Set(['EMBED_DOCUMENT_PREFIX', 'EMBED_QUERY_PREFIX']);

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Log lines are written to stdout in the background (sonic-boom, sync: false) and flushed
    // synchronously on exit; true writes each line before the logging call returns.
    LOG_SYNC: bool.default(false),

    // Gateway
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8000),
    TRUST_PROXY: bool.default(true),

    // Postgres: either DATABASE_URL or the POSTGRES_* parts (the compose stack sets the parts).
    DATABASE_URL: z.url().optional(),
    POSTGRES_HOST: z.string().default('postgres'),
    POSTGRES_PORT: z.coerce.number().int().default(5432),
    POSTGRES_USER: z.string().default('rattg_user'),
    POSTGRES_PASSWORD: z.string().default(INSECURE_DEFAULTS.POSTGRES_PASSWORD),
    POSTGRES_DB: z.string().default('rattgllm'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(100).default(10),

    // Accounts and tokens
    JWT_SECRET: z.string().min(8, 'must be at least 8 characters (use 32+ random bytes)'),
    JWT_EXPIRES_IN: duration.default(12 * 3600),
    ADMIN_PASSWORD: z.string().min(1).default(INSECURE_DEFAULTS.ADMIN_PASSWORD),
    // The chat site signs people in by e-mail (Open WebUI keys accounts by it): the seeded admin
    // needs one to use the chat. `.localhost` is reserved (RFC 6761): never anyone's real mailbox.
    ADMIN_EMAIL: z.email().default('admin@rattgllm.localhost'),
    LOGIN_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(10),
    LOGIN_RATE_LIMIT_WINDOW: duration.default(60),

    // Object storage (MinIO or any S3 store)
    S3_ENDPOINT: z.url().default('http://minio:9000'),
    S3_REGION: z.string().default('us-east-1'),
    S3_BUCKET: z.string().min(3).default('rattgllm'),
    MINIO_ROOT_USER: z.string().min(1).default(INSECURE_DEFAULTS.MINIO_ROOT_USER),
    MINIO_ROOT_PASSWORD: z.string().min(1).default(INSECURE_DEFAULTS.MINIO_ROOT_PASSWORD),
    MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(10240).default(100),

    // Vector index (Qdrant)
    QDRANT_URL: z.url().default('http://qdrant:6333'),
    QDRANT_API_KEY: z.string().optional(),
    QDRANT_COLLECTION: z.string().min(1).default('rattgllm_chunks'),
    /**
     * When a changed EMBED_MODEL / EMBED_DIM has been re-embedded into its shadow collection,
     * switch search to it at once. Off: an admin compares and switches (POST /admin/index/switch).
     */
    INDEX_AUTO_SWITCH: bool.default(false),
    /**
     * How hybrid search fuses the dense and the BM25 list. `convex` (default): α · cosine +
     * (1 − α) · BM25, each scaled from its lower bound (−1, 0) to the list's best, so how far
     * ahead a passage is counts, not only its place (Bruch et al. 2023, "TM2C2"); α chosen on
     * SciFact's train claims (README, "Measuring retrieval"). `rrf`: reciprocal rank fusion,
     * Σ weight / (rank + RRF_K) with the two weights below; a small k trusts the first places of
     * each list most (Qdrant's own default is 2).
     */
    HYBRID_FUSION: z.enum(['rrf', 'convex']).default('convex'),
    HYBRID_CONVEX_ALPHA: z.coerce.number().min(0).max(1).default(0.875),
    /**
     * `convex`: α for a query whose first 40 dense candidates come from 16 documents or fewer
     * (long documents, each giving many passages: BM25's rare terms then tell them apart better;
     * core/src/vector/fusion.ts convexAlpha). Equal to HYBRID_CONVEX_ALPHA: one α for every query.
     */
    HYBRID_CONVEX_ALPHA_LONG: z.coerce.number().min(0).max(1).default(0.75),
    RRF_K: z.coerce.number().min(0).max(1000).default(2),
    HYBRID_DENSE_WEIGHT: z.coerce.number().min(0).max(10).default(1),
    HYBRID_SPARSE_WEIGHT: z.coerce.number().min(0).max(10).default(1),
    /**
     * `document`: a search that groups by document (/search) fuses each list's document ranks
     * (a document's best passage), so several passages of one document do not push others down
     * a list; `passage` fuses passage ranks everywhere.
     */
    HYBRID_RANK_BY: z.enum(['passage', 'document']).default('passage'),
    /**
     * Passage windows: a hit returns the text of its section around its chunk — neighbouring
     * chunks of the same document joined without their overlap — up to this many tokens
     * (estimated like the chat context, about 3 characters a token). What is embedded stays the
     * small chunk fitted to the model. 0: a passage is its chunk alone.
     */
    PASSAGE_WINDOW_TOKENS: z.coerce.number().int().min(0).max(8000).default(1024),
    /**
     * The gateway keeps the chunks windows were built from in memory, for this many documents
     * (the oldest go first), as long as document access facts and dropped with them: a question
     * about documents asked about before needs no further Qdrant fetch. 0: always fetched.
     */
    PASSAGE_WINDOW_CACHE_DOCUMENTS: z.coerce.number().int().min(0).max(1_000_000).default(2000),
    /**
     * /search (grouped by document) ranks a document by its best passage plus this weight times
     * its second, its square times its third, … (fused scores). 0: the best passage alone.
     */
    DOCUMENT_SCORE_NEXT_WEIGHT: z.coerce.number().min(0).max(1).default(0),

    // Embeddings and chat (Ollama)
    OLLAMA_URL: z.url().default('http://ollama:11434'),
    EMBED_MODEL: z.string().min(1).default('nomic-embed-text'),
    EMBED_DIM: z.coerce.number().int().min(1).max(65536).default(768),
    /**
     * Prefixes nomic-embed-text was trained with. `none` (or an empty value) switches one off, for
     * models trained without them (all-MiniLM-L6-v2, most sentence-transformers).
     */
    EMBED_DOCUMENT_PREFIX: prefix.default('search_document: '),
    EMBED_QUERY_PREFIX: prefix.default('search_query: '),
    EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(1024).default(32),
    EMBED_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
    /** How long the ingestor holds a part-filled batch for passages of other documents to join (ms). */
    EMBED_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(5),
    EMBED_TIMEOUT: duration.default(120),
    CHAT_MODEL: z.string().min(1).default('llama3.1:8b'),
    /** OpenAI-compatible base URL chat is forwarded to (default: Ollama's /v1). */
    LLM_BASE_URL: z.url().optional(),
    /**
     * Longest wait for the chat upstream's answer headers, and between two of its body chunks
     * (a non-streamed answer's headers come only when the whole answer is written).
     */
    LLM_TIMEOUT: duration.default(120),
    /** Sent as `Authorization: Bearer …` to LLM_BASE_URL (OpenAI-compatible servers other than Ollama). */
    LLM_API_KEY: z.string().min(1).optional(),
    /**
     * The context length Ollama runs chat models with (the same OLLAMA_CONTEXT_LENGTH the ollama
     * service gets; Ollama 0.12's default is 4096). A model whose Modelfile sets `num_ctx` uses
     * that instead; /api/show tells the gateway, which fits each prompt into it.
     */
    OLLAMA_CONTEXT_LENGTH: z.coerce.number().int().min(512).max(1_048_576).default(4096),

    // Ingestor
    DROP_DIR: z.string().min(1).default('./drop'),
    DROP_POLLING: bool.default(false),
    /** Drop-folder changes recorded at once (never more than DATABASE_POOL_MAX). */
    DROP_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
    /** Distinct drop-folder paths kept while Postgres is down or busy; beyond it a reconcile pass runs. */
    DROP_QUEUE_MAX: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
    /** The ingestor's liveness endpoint (GET /health on 127.0.0.1); 0 = any free port (tests). */
    INGESTOR_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8001),
    REINDEX_INTERVAL: duration.default(2 * 3600),
    /** Default: defaultIngestConcurrency() for this machine and EMBED_BATCH_SIZE. */
    INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
    /**
     * Bytes of source files one ingestor holds in flight at once (sum of file sizes of the jobs
     * being parsed, chunked and embedded); a job waits for room before it downloads. A file larger
     * than the whole budget runs alone. Default 64 MB: 32 jobs of small files never wait, while a
     * burst of large PDFs stays far below the 384 MB heap cap.
     */
    INGEST_MAX_BYTES_IN_FLIGHT: z.coerce
      .number()
      .int()
      .min(1024 * 1024)
      .default(64 * 1024 * 1024),
    INGEST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    /** A job whose worker sends no heartbeat for this long (killed, host lost) goes to another worker. */
    JOB_HEARTBEAT_SECONDS: z.coerce.number().int().min(10).max(600).default(30),
    /** Transient failures (a service down, 5xx, timeouts) are retried this long before a document fails. */
    RETRY_HORIZON: duration.default(24 * 3600),
    /** First pause between retries; each further pause doubles up to RETRY_MAX_DELAY (with jitter). */
    RETRY_BASE_DELAY: duration.default(2),
    // 30 s: a document waits at most about that long after its service is back (a retry every
    // 30 s per waiting document is nothing to a service that answers again).
    RETRY_MAX_DELAY: duration.default(30),
    /** How often indexed documents are checked against their points in Qdrant (and lost workers' jobs freed). */
    CONSISTENCY_CHECK_INTERVAL: duration.default(5 * 60),
    /**
     * Target tokens per chunk. Unset: derived from the embedding model's context (/api/show) —
     * 400, or less for a model that reads fewer tokens. A value over the model's context is
     * lowered to fit, with a warning at start.
     */
    CHUNK_TOKENS: z.coerce.number().int().min(32).max(1800).optional(),
    CHUNK_OVERLAP: z.coerce.number().min(0).max(0.5).default(0.15),
    DOCLING_URL: z.url().optional(),

    /**
     * How long the gateway keeps API keys and users in memory (ms; document access facts 12× as
     * long). Every
     * change is announced by Postgres (NOTIFY) and drops the entry at once; the time only bounds
     * how long a missed announcement could matter. 0 turns the caches off.
     */
    GATEWAY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(600_000).default(5000),

    // RAG over /v1 (pipelines, Open WebUI)
    PIPELINES_DIR: z.string().min(1).default('./pipelines'),
    /** Also list (and pass through, without retrieval) the upstream's own models. */
    EXPOSE_OLLAMA_MODELS: bool.default(false),
    /** What chat does when vector search fails: answer without context, or fail the request. */
    RAG_ON_RETRIEVAL_ERROR: z.enum(['continue', 'fail']).default('continue'),
    /** Open WebUI's API key; the gateway keeps a `service` key with this secret. */
    OPENWEBUI_API_KEY: z.string().min(16).optional(),
    /** Verifies Open WebUI's signed `X-OpenWebUI-User-Jwt` (its FORWARD_USER_INFO_HEADER_JWT_SECRET). */
    OPENWEBUI_USER_JWT_SECRET: z.string().min(16).optional(),
    /** A forwarded user without a valid header or a known email reads `org` documents, or nothing. */
    OPENWEBUI_UNKNOWN_USER: z.enum(['org', 'deny']).default('org'),
    /** Trust unsigned X-OpenWebUI-User-* headers (only on a network where nobody else reaches the gateway). */
    OPENWEBUI_TRUST_PLAIN_HEADERS: bool.default(false),
    /**
     * Where browsers reach the gateway's API (e.g. https://rag.example.com/api): citation links in
     * chat answers point there. Without it they are relative, which only works on the same site.
     */
    PUBLIC_API_URL: z
      .string()
      .optional()
      .transform((v) => (v ? (/^https?:\/\//.test(v) ? v : `https://${v}`).replace(/\/+$/, '') : undefined)),
    /**
     * The chat site's address (compose: CHAT_SITE_ADDRESS): the demo page's chat link, and where
     * the widget hands a signed-in person over. An address without a host name (`http://:3000`)
     * counts as not set.
     */
    CHAT_SITE_URL: z
      .string()
      .optional()
      .transform((v) => {
        if (!v) return undefined;
        try {
          const url = new URL(v);
          return url.hostname ? url.origin : undefined;
        } catch {
          return undefined;
        }
      }),
    /** Where the gateway finds the built widget (served at /widget/). */
    WIDGET_DIR: z.string().min(1).default('./widget/dist'),
  })
  .transform((env) => ({
    ...env,
    INGEST_CONCURRENCY:
      env.INGEST_CONCURRENCY ?? defaultIngestConcurrency(availableParallelism(), env.EMBED_BATCH_SIZE),
    LLM_BASE_URL: env.LLM_BASE_URL ?? `${env.OLLAMA_URL.replace(/\/+$/, '')}/v1`,
    DATABASE_URL:
      env.DATABASE_URL ??
      `postgres://${encodeURIComponent(env.POSTGRES_USER)}:${encodeURIComponent(env.POSTGRES_PASSWORD)}@${env.POSTGRES_HOST}:${env.POSTGRES_PORT}/${encodeURIComponent(env.POSTGRES_DB)}`,
  }));

export type Config = z.output<typeof schema> & {
  /** Names of the variables still set to a published demo value. Empty in a safe deployment. */
  readonly insecureDefaults: readonly string[];
};

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parse and validate the environment. Throws a ConfigError listing every missing or invalid
 * variable at once, so a misconfigured container fails with one readable message.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings (common in compose files: `FOO=`) mean "not set", except where empty is a value.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && (v !== '' || EMPTY_IS_A_VALUE.has(k))),
  );
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const name = i.path.join('.') || '(environment)';
        return i.code === 'invalid_type' && cleaned[name] === undefined
          ? `${name}: required but not set`
          : `${name}: ${i.message}`;
      }),
    );
  }
  const insecureDefaults = (Object.keys(INSECURE_DEFAULTS) as (keyof typeof INSECURE_DEFAULTS)[]).filter(
    // With DATABASE_URL given, POSTGRES_PASSWORD is not used, so its default is harmless.
    (k) => result.data[k] === INSECURE_DEFAULTS[k] && !(k === 'POSTGRES_PASSWORD' && cleaned.DATABASE_URL),
  );
  return Object.freeze({ ...result.data, insecureDefaults });
}

let cached: Config | undefined;

/** The process's configuration, validated on first use. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/**
 * `loadConfig` for a process's entry point: a configuration mistake is printed as the sentence it
 * is (which variable, what is wrong) and the process exits 1, without a stack trace.
 */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
