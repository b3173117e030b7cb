import { createHash } from 'node:crypto';

/** Fixed namespace of rattgllm's chunk point ids (a random v4 UUID chosen once; never change it). */
export const POINT_ID_NAMESPACE = '6f1c3a52-8d0e-4f7b-9a65-2b9e4c1d7a30';

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

/** RFC 9562 UUID version 5 (SHA-1, name-based): the same name always gives the same id. */
export function uuidV5(name: string, namespace = POINT_ID_NAMESPACE): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The Qdrant point id of a chunk. Derived, never random, so a retried or redelivered job
 * overwrites the points it already wrote instead of duplicating them; the content hash makes an
 * edited chunk a new point, so a half-finished re-index never leaves old text under a new id.
 */
export function chunkPointId(documentId: string, chunkIndex: number, text: string): string {
  return uuidV5(`${documentId}:${chunkIndex}:${contentHash(text)}`);
}
