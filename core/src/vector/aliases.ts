import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import type { Config } from '../config.js';
import { translateQdrantError } from './errors.js';

/** What a production name (QDRANT_COLLECTION) is in Qdrant right now. */
export type NameState = { kind: 'alias'; collection: string } | { kind: 'collection' } | { kind: 'none' };

/** The collection-level Qdrant calls behind a model change: aliases, copy, drop. */
export interface CollectionOps {
  resolve(name: string): Promise<NameState>;
  /**
   * Point `alias` at `collection` in ONE `POST /collections/aliases` request (delete_alias then
   * create_alias): Qdrant applies the actions under one lock, so no search sees the name unbound.
   */
  pointAlias(alias: string, collection: string): Promise<void>;
  /** The dense vector size of a collection (undefined when it has no named dense vector). */
  denseSize(name: string): Promise<number | undefined>;
  /** Delete a collection by its own name (`false` if there was none; an alias name deletes nothing). */
  deleteCollection(name: string): Promise<boolean>;
  /** Copy every point with its vectors and payload (no re-embedding); returns how many. */
  copyPoints(
    from: string,
    to: string,
    options?: { signal?: AbortSignal; pageSize?: number },
  ): Promise<number>;
}

export function createCollectionOps(config: Pick<Config, 'QDRANT_URL' | 'QDRANT_API_KEY'>): CollectionOps {
  const url = config.QDRANT_URL.replace(/\/+$/, '');
  const client = new QdrantClient({
    url,
    ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}),
    checkCompatibility: false,
  });
  async function q<T>(what: string, collection: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateQdrantError(err, what, url, collection);
    }
  }

  return {
    async resolve(name) {
      const { aliases } = await q('list aliases', name, () => client.getAliases());
      const hit = aliases.find((a) => a.alias_name === name);
      if (hit) return { kind: 'alias', collection: hit.collection_name };
      const { exists } = await q('check the collection', name, () => client.collectionExists(name));
      return exists ? { kind: 'collection' } : { kind: 'none' };
    },
    async pointAlias(alias, collection) {
      await q('switch the alias', collection, () =>
        client.updateCollectionAliases({
          actions: [
            { delete_alias: { alias_name: alias } },
            { create_alias: { alias_name: alias, collection_name: collection } },
          ],
        }),
      );
    },
    async denseSize(name) {
      const info = await q('read the collection', name, () => client.getCollection(name));
      const vectors = info.config.params.vectors as Record<string, { size?: number }> | undefined;
      return vectors?.dense?.size;
    },
    async deleteCollection(name) {
      return q('delete the collection', name, () => client.deleteCollection(name));
    },
    async copyPoints(from, to, options = {}) {
      const limit = options.pageSize ?? 256;
      let offset: Schemas['ExtendedPointId'] | undefined;
      let copied = 0;
      do {
        options.signal?.throwIfAborted();
        const page = await q('read points', from, () =>
          client.scroll(from, {
            limit,
            with_payload: true,
            with_vector: true,
            ...(offset !== undefined ? { offset } : {}),
          }),
        );
        if (page.points.length) {
          const points = page.points.map((p) => ({
            id: p.id,
            vector: p.vector as Schemas['VectorStruct'],
            payload: p.payload ?? {},
          }));
          await q('copy points', to, () => client.upsert(to, { wait: true, points }));
          copied += points.length;
        }
        const next = page.next_page_offset;
        offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
      } while (offset !== undefined);
      return copied;
    },
  };
}
