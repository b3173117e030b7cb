/**
 * Which failures are worth another try. Retryable: a service that is down, slow or answered 5xx
 * (Ollama, Qdrant, storage, Postgres) — it may be back in a minute. Permanent: the file itself
 * (corrupt, encrypted, no text) or something a person must fix (model not pulled, wrong
 * dimension) — trying again gives the same answer, so the document fails at once.
 */
export function isPermanent(err: unknown): boolean {
  const e = err as { permanent?: unknown; retryable?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.permanent === true) return true;
  return e.retryable === false;
}

/** The sentence stored in `documents.error`: the error's own message, which is written for people. */
export function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 1000 ? `${message.slice(0, 997)}...` : message;
}
