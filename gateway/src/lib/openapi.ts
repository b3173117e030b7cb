import { STATUS_CODES } from 'node:http';
import { ROUTE_EXAMPLES, UNTYPED_SUCCESS } from './openapi-examples.js';

/**
 * Finishing touches on the generated OpenAPI document, in one place instead of on every route:
 * each status gets a description (never "Default Response") and an example body (errors from
 * ERROR_EXAMPLES, successes from openapi-examples.ts);
 * `POST /upload` gets its multipart body (Fastify validates multipart in the handler, so the
 * route has no body schema to generate it from), so the docs page can try an upload.
 */

const ERROR_EXAMPLES: Record<number, { message: string; code: string }> = {
  400: { message: 'Username is required.', code: 'VALIDATION_ERROR' },
  401: { message: 'Missing Authorization header: send "Bearer <token>"', code: 'MISSING_TOKEN' },
  403: { message: 'This needs the admin role', code: 'FORBIDDEN' },
  404: { message: 'No such document', code: 'DOCUMENT_NOT_FOUND' },
  409: { message: 'You cannot delete your own account; ask another admin', code: 'CANNOT_DELETE_SELF' },
  413: { message: 'The file is larger than the limit of 100 MB', code: 'FILE_TOO_LARGE' },
  415: {
    message: 'Files of type .exe are not indexed. Supported types: pdf, docx, …',
    code: 'UNSUPPORTED_TYPE',
  },
  416: { message: 'The file has 1024 bytes', code: 'RANGE_NOT_SATISFIABLE' },
  429: { message: 'Too many sign-in attempts for this account; try again in 60 s.', code: 'RATE_LIMITED' },
  503: { message: 'The database is unreachable; try again in a moment', code: 'DATABASE_UNAVAILABLE' },
};

const UPLOAD_BODY = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['file'],
        properties: {
          file: {
            type: 'array',
            items: { type: 'string', format: 'binary' },
            description: 'one or more files (the field repeated)',
          },
          access: {
            type: 'string',
            default: 'private',
            description: '`private`, `org` or `group:<name>` (one of your groups)',
          },
          tags: { type: 'string', description: 'comma-separated, e.g. `hr, policy`' },
        },
      },
      encoding: { file: { contentType: 'application/octet-stream' } },
    },
  },
};

type Json = Record<string, unknown>;

// Behind Caddy every path is under /api, so "Try it out" must call it there. Added after the
// document is generated: given to @fastify/swagger, a server path is stripped from the routes
// that start with it ("/api-keys" became "-keys").
const SERVERS = [
  { url: '/api', description: 'Through Caddy (the deployed site)' },
  { url: '/', description: 'The gateway itself (npm run dev, tests)' },
];

/**
 * `proxied`: the page was reached through Caddy (the request carries X-Forwarded-For), so "Try
 * it out" calls `/api/…` first; reached directly (npm run dev) it calls the gateway's own paths
 * first. The same rule picks the demo page's api-base.
 */
export function finishOpenApi<T extends Json>(doc: T, options: { proxied: boolean } = { proxied: true }): T {
  (doc as Json).servers = options.proxied ? SERVERS : [...SERVERS].reverse();
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (typeof op !== 'object' || !op || !('responses' in op)) continue;
      const responses = op.responses as Record<string, Json>;
      for (const [status, res] of Object.entries(responses)) {
        const code = Number(status);
        if (!res.description || res.description === 'Default Response')
          res.description = code === 204 ? 'Done; no body' : (STATUS_CODES[code] ?? 'Response');
        const key = `${method.toUpperCase()} ${path} ${status}`;
        if (!res.content && UNTYPED_SUCCESS[key]) res.content = UNTYPED_SUCCESS[key];
        const content = res.content as Record<string, Json> | undefined;
        const json = content?.['application/json'];
        if (!json || json.example || json.examples) continue;
        // A route's own example first (GET /ready's 503 is a report, not an error body).
        const error = ERROR_EXAMPLES[code];
        if (key in ROUTE_EXAMPLES) json.example = ROUTE_EXAMPLES[key];
        else if (error) json.example = { statusCode: code, error: STATUS_CODES[code], ...error };
      }
      if (path === '/upload' && method === 'post') op.requestBody = UPLOAD_BODY;
    }
  }
  return doc;
}
