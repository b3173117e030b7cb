import type { IngestorDeps } from '../../deps.js';
import type { Stage } from '../types.js';

/** Stage 0, read: the stored object of a document, as the parsers want it. */
export function readStage(deps: Pick<IngestorDeps, 'storage'>): Stage<{ storageKey: string }, Buffer> {
  return async ({ storageKey }, { signal }) => {
    // Parsers need the whole file (PDF, OOXML zip); uploads are capped at MAX_UPLOAD_MB.
    const stream = await deps.storage.get(storageKey);
    const parts: Buffer[] = [];
    for await (const chunk of stream) {
      signal.throwIfAborted();
      parts.push(chunk as Buffer);
    }
    return Buffer.concat(parts);
  };
}
