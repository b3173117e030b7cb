import type { Knex } from 'knex';
import type { Config } from '../config.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { CollectionOps } from './aliases.js';

/**
 * Index generations (table `index_generations`): one Qdrant collection per embedding model, so
 * the model can change while search keeps serving the old one. The production name
 * (QDRANT_COLLECTION) is a plain collection until the first model change, then a Qdrant alias
 * on the active generation; Qdrant's alias is what every reader follows, the rows say which
 * model each collection was built with and how far a re-embedding has come.
 */
export type GenerationState = 'building' | 'ready' | 'active' | 'retired';

/** What a collection's vectors depend on: documents embedded otherwise need another collection. */
export interface ModelIdentity {
  model: string;
  dim: number;
  documentPrefix: string;
  queryPrefix: string;
}

export interface Generation extends ModelIdentity {
  /** The physical Qdrant collection. */
  collection: string;
  /** The production name it serves under (QDRANT_COLLECTION). */
  alias: string;
  state: GenerationState;
  createdAt?: Date;
  completedAt?: Date | null;
  switchedAt?: Date | null;
}

export type GenerationConfig = Pick<
  Config,
  'QDRANT_COLLECTION' | 'EMBED_MODEL' | 'EMBED_DIM' | 'EMBED_DOCUMENT_PREFIX' | 'EMBED_QUERY_PREFIX'
>;

export function configIdentity(config: GenerationConfig): ModelIdentity {
  return {
    model: config.EMBED_MODEL,
    dim: config.EMBED_DIM,
    documentPrefix: config.EMBED_DOCUMENT_PREFIX,
    queryPrefix: config.EMBED_QUERY_PREFIX,
  };
}

/** Same stored vectors? (The query prefix only changes queries, never the collection.) */
export function sameModel(a: ModelIdentity, b: ModelIdentity): boolean {
  return a.model === b.model && a.dim === b.dim && a.documentPrefix === b.documentPrefix;
}

/** `<alias>__<model-slug>_<dim>_<n>`: readable in Qdrant's dashboard, unique per build. */
export function generationCollection(alias: string, identity: ModelIdentity, n: number): string {
  const slug =
    identity.model
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'model';
  return `${alias}__${slug}_${identity.dim}_${n}`;
}

/**
 * The configuration a generation is served with: its own model, dimension, prefixes and
 * collection (a derived object; the process configuration stays as loaded).
 */
export function generationConfig<T extends GenerationConfig>(config: T, gen: Generation): T {
  return {
    ...config,
    QDRANT_COLLECTION: gen.collection,
    EMBED_MODEL: gen.model,
    EMBED_DIM: gen.dim,
    EMBED_DOCUMENT_PREFIX: gen.documentPrefix,
    // The configured query prefix wins for the configured model (it may be changed on its own).
    EMBED_QUERY_PREFIX: sameModel(gen, configIdentity(config)) ? config.EMBED_QUERY_PREFIX : gen.queryPrefix,
  };
}

interface Row {
  collection: string;
  alias: string;
  model: string;
  dim: number;
  document_prefix: string;
  query_prefix: string;
  state: GenerationState;
  created_at: Date;
  completed_at: Date | null;
  switched_at: Date | null;
}

const fromRow = (r: Row): Generation => ({
  collection: r.collection,
  alias: r.alias,
  model: r.model,
  dim: r.dim,
  documentPrefix: r.document_prefix,
  queryPrefix: r.query_prefix,
  state: r.state,
  createdAt: r.created_at,
  completedAt: r.completed_at,
  switchedAt: r.switched_at,
});

export async function listGenerations(db: Knex, alias: string): Promise<Generation[]> {
  const rows = await db<Row>('index_generations').where({ alias }).orderBy('created_at');
  return rows.map(fromRow);
}

export async function findGeneration(db: Knex, collection: string): Promise<Generation | undefined> {
  const row = await db<Row>('index_generations').where({ collection }).first();
  return row && fromRow(row);
}

export async function insertGeneration(db: Knex, gen: Generation): Promise<void> {
  await db('index_generations')
    .insert({
      collection: gen.collection,
      alias: gen.alias,
      model: gen.model,
      dim: gen.dim,
      document_prefix: gen.documentPrefix,
      query_prefix: gen.queryPrefix,
      state: gen.state,
    })
    .onConflict('collection')
    .ignore();
}

export async function setGenerationState(
  db: Knex,
  collection: string,
  state: GenerationState,
): Promise<void> {
  await db('index_generations')
    .where({ collection })
    .update({ state, ...(state === 'ready' ? { completed_at: db.fn.now() } : {}) });
}

/**
 * The generation the production name serves now: Qdrant's alias decides; a plain collection is
 * the one generation (older deployments, or no model change yet). When the name resolves to
 * nothing (the collection was lost, or the instant of the plain → alias migration) the active
 * row stands in.
 */
export async function resolveActive(
  db: Knex,
  ops: CollectionOps,
  config: GenerationConfig,
): Promise<Generation> {
  const alias = config.QDRANT_COLLECTION;
  const state = await ops.resolve(alias);
  const synth = (collection: string): Generation => ({
    ...configIdentity(config),
    collection,
    alias,
    state: 'active',
  });
  // Postgres only adds which model built the collection: while it is down, the configured one
  // stands in (search cannot confirm access then anyway, but Qdrant's own check stays truthful).
  const lookup = (collection: string) => findGeneration(db, collection).catch(() => undefined);
  if (state.kind === 'alias') return (await lookup(state.collection)) ?? synth(state.collection);
  if (state.kind === 'collection') return (await lookup(alias)) ?? synth(alias);
  const row = await db<Row>('index_generations')
    .where({ alias, state: 'active' })
    .first()
    .catch(() => undefined);
  return row ? fromRow(row) : synth(alias);
}

/** A generation of this production name, or a 404 naming it. */
async function generationOf(db: Knex, alias: string, collection: string): Promise<Generation> {
  const gen = await findGeneration(db, collection);
  if (!gen || gen.alias !== alias)
    throw new NotFoundError(`No index generation ${collection} for ${alias}`, 'GENERATION_NOT_FOUND');
  return gen;
}

/**
 * Switch the production name to a ready generation: the alias first (one atomic Qdrant request;
 * from then on every search resolves to the new collection), then the rows, and the documents
 * take the new generation's signature and chunk count, so the reconcile pass does not re-embed
 * them. The outgoing generation records what it holds, so switching back later re-embeds only
 * what changed since.
 */
export async function switchGeneration(
  db: Knex,
  ops: CollectionOps,
  alias: string,
  collection: string,
): Promise<Generation> {
  const target = await generationOf(db, alias, collection);
  if (target.state === 'active')
    throw new ConflictError(`${collection} is already active`, 'GENERATION_ACTIVE');
  if (target.state !== 'ready')
    throw new ConflictError(
      `${collection} is ${target.state}: only a generation whose re-embedding is complete (ready) can be switched to`,
      'GENERATION_NOT_READY',
    );
  const name = await ops.resolve(alias);
  if (name.kind === 'collection')
    throw new ConflictError(
      `${alias} is still a plain collection; the ingestor migrates it to an alias`,
      'INDEX_NOT_MIGRATED',
    );
  await ops.pointAlias(alias, collection);
  await db.transaction(async (trx) => {
    const outgoing = await trx<Row>('index_generations').where({ alias, state: 'active' }).first();
    if (outgoing) {
      await trx.raw(
        `insert into index_generation_documents (collection, document_id, version, chunk_count, signature)
         select ?, id, version, chunk_count, coalesce(index_signature, '') from documents where status = 'indexed'
         on conflict (collection, document_id) do update
           set version = excluded.version, chunk_count = excluded.chunk_count, signature = excluded.signature, updated_at = now()`,
        [outgoing.collection],
      );
      await trx('index_generations').where({ collection: outgoing.collection }).update({ state: 'retired' });
    }
    await trx('index_generations')
      .where({ collection })
      .update({ state: 'active', switched_at: trx.fn.now() });
    await trx.raw(
      `update documents d set index_signature = g.signature, chunk_count = g.chunk_count
       from index_generation_documents g
       where g.collection = ? and g.document_id = d.id and g.version = d.version`,
      [collection],
    );
  });
  return { ...target, state: 'active' };
}

/** Delete a generation that no longer serves (its collection and row); the active one stays. */
export async function dropGeneration(
  db: Knex,
  ops: CollectionOps,
  alias: string,
  collection: string,
): Promise<void> {
  const gen = await generationOf(db, alias, collection);
  const name = await ops.resolve(alias);
  if (gen.state === 'active' || (name.kind === 'alias' && name.collection === collection))
    throw new ConflictError(
      `${collection} is the active generation; switch to another one first`,
      'GENERATION_ACTIVE',
    );
  await ops.deleteCollection(collection);
  await db('index_generations').where({ collection }).delete();
}
