import {
  QdrantRequestError,
  configIdentity,
  createVectorIndex,
  findGeneration,
  generationCollection,
  generationConfig,
  insertGeneration,
  listGenerations,
  resolveActive,
  sameModel,
  setGenerationState,
  type CollectionOps,
  type Generation,
  type ModelIdentity,
} from '@rattgllm/core';
import type { IngestorDeps } from '../deps.js';

/** Serialises the start-up of several ingestors over the same production name. */
const LOCK_KEY = 0x7261_7467; // 'ratg'

/**
 * At start: make sure the active generation's collection exists with its shape; when the
 * configured model (EMBED_MODEL, EMBED_DIM, EMBED_DOCUMENT_PREFIX) differs from the active one,
 * turn a plain collection into an alias (copying its points, no re-embedding) and create (or
 * resume) the shadow generation the re-embedding fills. Search keeps the active one meanwhile.
 */
export async function prepareGenerations(deps: IngestorDeps, ops: CollectionOps): Promise<void> {
  const { db, config, log } = deps;
  const alias = config.QDRANT_COLLECTION;
  const want = configIdentity(config);
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?, hashtext(?))', [LOCK_KEY, alias]);
    const name = await ops.resolve(alias);
    const activeRow = (await listGenerations(db, alias)).find((g) => g.state === 'active');
    if (name.kind === 'none' && activeRow && activeRow.collection !== alias) {
      // Alias mode and Qdrant lost the collection (and so its alias): re-create both; the
      // consistency check re-queues the documents whose points are missing.
      await ensure(deps, activeRow);
      await ops.pointAlias(alias, activeRow.collection);
      log.warn(
        { collection: activeRow.collection },
        'the active collection was missing: re-created it and its alias',
      );
    } else if (name.kind === 'collection' && activeRow && activeRow.collection !== alias) {
      // A migration stopped after its copy: finish it.
      await finishMigration(deps, ops, alias, activeRow.collection);
    } else if (name.kind !== 'alias' && !activeRow) {
      const identity = name.kind === 'collection' ? await legacyIdentity(deps, ops) : want;
      await insertGeneration(db, { ...identity, collection: alias, alias, state: 'active' });
    }
    let active = await resolveActive(db, ops, config);
    await ensure(deps, active);
    if (sameModel(active, want)) return;

    if (active.collection === alias) active = await migrateToAlias(deps, ops, active);
    const all = await listGenerations(db, alias);
    let shadow = all.find((g) => g.state !== 'active' && sameModel(g, want));
    if (!shadow) {
      let n = all.length + 1;
      while (all.some((g) => g.collection === generationCollection(alias, want, n))) n++;
      shadow = { ...want, collection: generationCollection(alias, want, n), alias, state: 'building' };
      await insertGeneration(db, shadow);
    } else if (shadow.state === 'retired') {
      // Back to an earlier model: it re-embeds only what changed since it was active.
      await setGenerationState(db, shadow.collection, 'building');
      shadow = { ...shadow, state: 'building' };
    }
    await ensure(deps, shadow);
    log.info(
      { active: active.collection, activeModel: active.model, shadow: shadow.collection, model: want.model },
      'the embedding model changed: re-embedding every document into a shadow collection; search keeps the active one',
    );
  });
}

/** Create a generation's collection (shape, payload indexes) if missing; check it otherwise. */
async function ensure(deps: IngestorDeps, gen: Generation): Promise<void> {
  if (gen.collection === deps.config.QDRANT_COLLECTION && sameModel(gen, configIdentity(deps.config))) {
    await deps.index.ensureCollection(); // the plain configured collection, as always
    return;
  }
  await createVectorIndex(generationConfig(deps.config, gen), { repair: false }).ensureCollection();
}

/**
 * The model a plain collection was built with: the index signature most of its documents carry
 * (`chunker|model|dim|prefix|…`, ingest.ts), checked against the collection's vector size.
 */
async function legacyIdentity(deps: IngestorDeps, ops: CollectionOps): Promise<ModelIdentity> {
  const { db, config } = deps;
  const want = configIdentity(config);
  const size = await ops.denseSize(config.QDRANT_COLLECTION);
  const row = (await db('documents')
    .where({ status: 'indexed' })
    .whereNotNull('index_signature')
    .groupBy('index_signature')
    .orderByRaw('count(*) desc')
    .first('index_signature')) as { index_signature: string } | undefined;
  const [, model, dim, prefix] = row?.index_signature.split('|') ?? [];
  if (model && Number(dim) === (size ?? Number(dim))) {
    const documentPrefix = prefix ?? '';
    const queryPrefix =
      model === want.model
        ? want.queryPrefix
        : documentPrefix.startsWith('search_document')
          ? 'search_query: '
          : '';
    return { model, dim: Number(dim), documentPrefix, queryPrefix };
  }
  return { ...want, dim: size ?? want.dim };
}

/**
 * Plain collection → alias, without downtime: copy its points into a versioned collection
 * (vectors and payload as they are), make that row the active one, then delete the plain
 * collection and create the alias at once. Readers resolve through the alias; in the moment
 * between the two calls they fall back to the active row (core's resolveActive).
 */
async function migrateToAlias(
  deps: IngestorDeps,
  ops: CollectionOps,
  legacy: Generation,
): Promise<Generation> {
  const { db, config, log } = deps;
  const alias = config.QDRANT_COLLECTION;
  const all = await listGenerations(db, alias);
  let n = 1;
  while (all.some((g) => g.collection === generationCollection(alias, legacy, n))) n++;
  const target: Generation = {
    ...legacy,
    collection: generationCollection(alias, legacy, n),
    alias,
    state: 'active',
  };
  await createVectorIndex(generationConfig(config, target), { repair: false }).ensureCollection();
  const t0 = Date.now();
  const copied = await ops.copyPoints(alias, target.collection);
  await db.transaction(async (trx) => {
    await trx('index_generations').where({ collection: alias }).delete();
    await trx('index_generations').insert({
      collection: target.collection,
      alias,
      model: target.model,
      dim: target.dim,
      document_prefix: target.documentPrefix,
      query_prefix: target.queryPrefix,
      state: 'active',
      switched_at: trx.fn.now(),
    });
  });
  await finishMigration(deps, ops, alias, target.collection);
  log.info(
    { alias, collection: target.collection, copied, ms: Date.now() - t0 },
    'the plain collection is now an alias',
  );
  return (await findGeneration(db, target.collection)) ?? target;
}

async function finishMigration(
  deps: IngestorDeps,
  ops: CollectionOps,
  alias: string,
  collection: string,
): Promise<void> {
  // A gateway that searched the plain name in that moment may have re-created it empty (its
  // repair); delete it again, a few times at most.
  for (let attempt = 1; ; attempt++) {
    await ops.deleteCollection(alias);
    try {
      await ops.pointAlias(alias, collection);
      return;
    } catch (err) {
      if (attempt >= 5 || !(err instanceof QdrantRequestError && err.upstreamStatus === 400)) throw err;
      deps.log.warn(
        { alias, attempt },
        'the plain collection came back during the alias migration; deleting it again',
      );
    }
  }
}
