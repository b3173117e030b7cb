// @ts-check
/**
 * Index generations: one row per Qdrant collection built for one embedding model (model,
 * dimension, document prefix), so the model can change while search keeps serving the old one.
 * The production name (QDRANT_COLLECTION) is a Qdrant alias on the active generation once a
 * second generation exists (core/src/vector/generations.ts); `state` is what the admin status
 * shows: building → ready → active → retired (kept until an admin drops it).
 * `index_generation_documents` records which document version each generation holds, so a
 * re-embedding resumes after a restart and knows what changed under it.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('index_generations', (t) => {
    t.text('collection').primary();
    t.text('alias').notNullable();
    t.text('model').notNullable();
    t.integer('dim').notNullable();
    t.text('document_prefix').notNullable().defaultTo('');
    t.text('query_prefix').notNullable().defaultTo('');
    t.text('state').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.timestamp('switched_at', { useTz: true });
  });
  await knex.raw(
    `ALTER TABLE index_generations ADD CONSTRAINT index_generations_state_check
     CHECK (state IN ('building', 'ready', 'active', 'retired'))`,
  );
  // At most one active generation per production name.
  await knex.raw(
    `CREATE UNIQUE INDEX index_generations_one_active ON index_generations (alias) WHERE state = 'active'`,
  );
  await knex.schema.createTable('index_generation_documents', (t) => {
    t.text('collection')
      .notNullable()
      .references('collection')
      .inTable('index_generations')
      .onDelete('CASCADE');
    t.uuid('document_id').notNullable().references('id').inTable('documents').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.integer('chunk_count').notNullable();
    // The ingestor's index signature the points were built with (written to the document at the switch).
    t.text('signature').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['collection', 'document_id']);
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('index_generation_documents');
  await knex.schema.dropTable('index_generations');
}
