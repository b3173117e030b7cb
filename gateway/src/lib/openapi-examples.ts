/**
 * Example answers of the main routes for the OpenAPI page, by "METHOD path status". Written once
 * here rather than in every route; gateway/test/openapi.test.ts validates each against its
 * response schema, so an example cannot drift from what the route really sends.
 */

const ID = '3f1c2a9e-5b7d-4c1e-8f00-2a6b9c0d1e2f';
const USER_ID = '8a2b4c6d-1e3f-4a5b-9c7d-0e1f2a3b4c5d';
const AT = '2026-12-01T09:30:00.000Z';

const DOCUMENT = {
  id: ID,
  ownerId: USER_ID,
  filename: 'travel-policy.pdf',
  mime: 'application/pdf',
  size: 48213,
  sha256: 'a3f5c0e1d2b4a6978877665544332211ffeeddccbbaa99887766554433221100',
  source: 'upload',
  sourcePath: null,
  access: 'org',
  tags: ['hr', 'policy'],
  status: 'indexed',
  progress: 1,
  error: null,
  nextAttemptAt: null,
  chunkCount: 12,
  createdAt: AT,
  updatedAt: AT,
  indexedAt: '2026-12-01T09:30:04.000Z',
  contentUrl: `/documents/${ID}/content`,
  stored: true,
};

const USER = {
  id: USER_ID,
  username: 'alice',
  email: 'alice@example.org',
  roles: ['user'],
  groups: ['hr'],
  disabled: false,
  createdAt: AT,
};

const API_KEY = {
  id: '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f',
  userId: USER_ID,
  name: 'laptop script',
  prefix: 'rk_4f9a',
  roles: ['user'],
  scopes: ['read'],
  createdAt: AT,
  expiresAt: '2027-03-01T09:30:00.000Z',
  lastUsedAt: null,
  revokedAt: null,
};

const PASSAGE = {
  chunkIndex: 3,
  text: 'Trains are preferred to planes for trips under 600 km.',
  score: 0.032,
  denseScore: 0.82,
  page: 2,
  pageEnd: null,
  pageBreaks: null,
  heading: 'Travel > Booking',
};

export const ROUTE_EXAMPLES: Record<string, unknown> = {
  'GET /health 200': { status: 'ok' },
  'GET /ready 200': {
    status: 'ok',
    checks: { postgres: { status: 'ok' }, qdrant: { status: 'ok' }, embedder: { status: 'ok' } },
  },
  'GET /ready 503': {
    status: 'unavailable',
    checks: {
      postgres: { status: 'down', reason: 'the database is unreachable' },
      qdrant: { status: 'ok' },
      embedder: { status: 'ok' },
    },
  },
  'POST /auth/login 200': {
    access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…',
    token_type: 'bearer',
    expires_in: 3600,
    user: { id: USER_ID, username: 'alice', roles: ['user'], groups: ['hr'] },
  },
  'GET /auth/me 200': {
    id: USER_ID,
    username: 'alice',
    email: 'alice@example.org',
    roles: ['user'],
    groups: ['hr'],
    via: 'jwt',
  },
  'GET /users 200': { users: [USER] },
  'POST /users 201': USER,
  'PATCH /users/{id} 200': { ...USER, groups: ['hr', 'finance'] },
  'GET /api-keys 200': { keys: [API_KEY] },
  'POST /api-keys 201': { ...API_KEY, key: 'rk_4f9a…the secret, shown only now' },
  'POST /upload 200': { documents: [{ ...DOCUMENT, duplicate: true }] },
  'POST /upload 201': {
    documents: [{ ...DOCUMENT, status: 'pending', progress: 0, chunkCount: 0, indexedAt: null }],
  },
  'GET /documents 200': { documents: [{ ...DOCUMENT, ownerName: 'alice' }], total: 1, limit: 50, offset: 0 },
  'GET /documents/{id} 200': DOCUMENT,
  'PATCH /documents/{id} 200': { ...DOCUMENT, access: 'group:hr' },
  'POST /documents/{id}/cancel 200': {
    ...DOCUMENT,
    status: 'cancelled',
    progress: 0,
    chunkCount: 0,
    indexedAt: null,
    error: 'Cancelled by alice; re-index to index it',
  },
  'POST /documents/events/token 200': { token: 'eyJhbGciOiJIUzI1NiJ9…', expires_in: 60 },
  'POST /ingest/reindex 202': { queued: 1 },
  'POST /search 200': {
    results: [{ documentId: ID, filename: 'travel-policy.pdf', ...PASSAGE, also: [] }],
    tookMs: 41,
  },
  'GET /v1/models 200': {
    object: 'list',
    data: [{ id: 'rattg-rag', object: 'model', created: 1764581400, owned_by: 'rattgllm' }],
  },
  'POST /chat-sso/ticket 200': { ticket: 'c2b1…', expires_in: 60 },
};

/** Routes whose 200 has no schema (streamed or passed through): their body is described here. */
export const UNTYPED_SUCCESS: Record<string, Record<string, { example: unknown }>> = {
  'POST /v1/chat/completions 200': {
    'application/json': {
      example: {
        id: 'chatcmpl-7f3a',
        object: 'chat.completion',
        created: 1764581400,
        model: 'rattg-rag',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Trains, for trips under 600 km [1].' },
            finish_reason: 'stop',
          },
        ],
      },
    },
    'text/event-stream': {
      example:
        'data: {"id":"chatcmpl-7f3a","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Trains"}}]}\n\ndata: [DONE]\n\n',
    },
  },
  'POST /v1/embeddings 200': {
    'application/json': {
      example: {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.012, -0.034, 0.056] }],
        model: 'nomic-embed-text',
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
    },
  },
};
