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
