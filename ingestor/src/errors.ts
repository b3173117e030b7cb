import { classifyError } from '@rattgllm/core';

/**
 * Which failures are worth another try, as core's one classifier says: retryable — a service
 * that is down, slow or answered 5xx (Ollama, Qdrant, storage, Postgres), a lost collection, or an
 * error nobody typed; permanent — the file itself (corrupt, encrypted, no text) or something a
 * person must fix (model not pulled, wrong dimension, a rejected request), so the document fails.
 */
export function isPermanent(err: unknown): boolean {
  return !classifyError(err).retryable;
}

/** The sentence stored in `documents.error`: the error's own message, which is written for people. */
export function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 1000 ? `${message.slice(0, 997)}...` : message;
}

/**
 * Why a document waits, in words for the person looking at it. It names the service, not its
 * address: `documents.error` is shown by the API, and internal host names stay in the log.
 */
export function faultReason(err: unknown): string {
  const { code } = classifyError(err);
  const service = code.startsWith('OLLAMA')
    ? 'The embedding service (Ollama) is not answering'
    : code.startsWith('QDRANT_COLLECTION_MISSING')
      ? 'The search index was lost and is being rebuilt'
      : code.startsWith('QDRANT')
        ? 'The vector index (Qdrant) is not answering'
        : code.startsWith('DATABASE')
          ? 'The database is not answering'
          : code.startsWith('S3') || code.startsWith('STORAGE')
            ? 'The file store is not answering'
            : 'A service this document needs is not answering';
  return `${service} (${code})`;
}
