// @ts-check
/**
 * BM25 length of each chunk (stemmed, stopword-free tokens), so the average document length
 * BM25 normalises by is measured from the corpus instead of assumed (256): short abstracts and
 * long manuals need different values.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.alterTable('chunks', (t) => {
    t.integer('bm25_length');
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.alterTable('chunks', (t) => {
    t.dropColumn('bm25_length');
  });
}
