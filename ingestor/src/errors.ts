import { classifyError } from '@rattgllm/core';

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
