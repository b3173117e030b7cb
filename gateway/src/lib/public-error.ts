/**
 * What an error may tell a client. Dependency errors are written for operators (they name the
 * Qdrant or Ollama address, and Ollama's own messages name its runner's `127.0.0.1:port`); a
 * response body must name neither, so every message leaving the gateway passes through here.
 * The full error still goes to the log with the request id.
 */

// `Qdrant at http://qdrant:6333 refused …` → `Qdrant refused …`: the service's role stays, its address goes.
const AT_ADDRESS = /\s+at\s+[a-z][a-z0-9+.-]*:\/\/\S+/gi;
const URL_LIKE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi;
// Bare `host:port` and IPv4 addresses, as in Go's `dial tcp 10.0.0.7:11434: connect: …`.
const HOST_PORT = /\b(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-f:]+\])(?::\d{1,5})?\b/gi;

export function scrubMessage(message: string): string {
  return message
    .replace(AT_ADDRESS, '')
    .replace(URL_LIKE, '(internal address)')
    .replace(HOST_PORT, '(internal address)');
}

/** Detail keys a 5xx may keep; anything else (url, code, collection, cause) stays in the log. */
const SAFE_5XX_DETAILS = new Set(['model', 'upstreamStatus']);
/** Never in a body, whatever the status. */
const INTERNAL_DETAILS = new Set(['url', 'host', 'baseUrl', 'cause', 'stack']);

export function publicDetails(
  statusCode: number,
  details: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!details) return {};
  return Object.fromEntries(
    Object.entries(details).filter(([k]) =>
      statusCode >= 500 ? SAFE_5XX_DETAILS.has(k) : !INTERNAL_DETAILS.has(k),
    ),
  );
}

/**
 * The message and details a client may see. Dependency messages keep the service's role and
 * the dependency's words (`Qdrant refused the connection`, `The LLM server failed: runner
 * crashed (HTTP 500)`), without any address.
 */
export function publicView(
  statusCode: number,
  message: string,
  details?: Record<string, unknown>,
): { message: string; details: Record<string, unknown> } {
  return { message: scrubMessage(message), details: publicDetails(statusCode, details) };
}

/** A short phrase for a dependency error's cause, for `/ready` and chat warnings. */
export function dependencyReason(err: unknown): string {
  const message = (err as { message?: unknown })?.message;
  return scrubMessage(typeof message === 'string' ? message : String(err));
}

// Connection-level failures (Postgres down, restarting, out of connections): a 503 the client
// may retry, not a 500 that looks like a bug.
const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  '57P01',
  '57P03',
  '53300',
]);
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e?.name === 'KnexTimeoutError' || (typeof e?.code === 'string' && DB_DOWN_CODES.has(e.code));
}

export interface ClientFault {
  statusCode: number;
  code: string;
  message: string;
}

/**
 * Errors that are the request's fault although they surface below the routes: a value Postgres
 * cannot store or compare (class 22: NUL bytes, out-of-range numbers, malformed uuids; 54001:
 * too complex), and a multipart body busboy cannot parse. Schemas catch most of these first;
 * this is the net under them, so such a request is never a 500. The SQL stays in the log.
 */
export function clientFaultOf(err: unknown): ClientFault | undefined {
  const e = err as { code?: unknown; message?: unknown; statusCode?: unknown; severity?: unknown };
  if (typeof e?.code === 'string' && typeof e.severity === 'string') {
    if (e.code.startsWith('22'))
      return {
        statusCode: 400,
        code: 'INVALID_VALUE',
        message:
          'A value in the request cannot be used (control characters, a number out of range, or a malformed id)',
      };
    if (e.code === '54001')
      return { statusCode: 400, code: 'REQUEST_TOO_COMPLEX', message: 'The request is too complex to run' };
  }
  if (
    err instanceof Error &&
    e.statusCode === undefined &&
    /unexpected end of multipart data|^Multipart: Boundary not found/i.test(err.message)
  )
    return {
      statusCode: 400,
      code: 'INVALID_MULTIPART',
      message: `The multipart body is malformed (${err.message}); check its boundary`,
    };
  return undefined;
}
