// @ts-check
/**
 * What the current index of a document was built from, so the reconcile pass can tell a stale
 * index (file changed, chunker or embedding model changed) from a current one without re-embedding.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.alterTable('documents', (t) => {
    // sha256 of the content the current points were made from.
    t.text('indexed_sha256');
    // chunker version, embedding model and dimension, chunk size and overlap.
    t.text('index_signature');
    // Which parser produced the text (e.g. "pdf:unpdf", "docling"), and its non-fatal warnings.
    t.text('parser');
    t.specificType('warnings', 'text[]').notNullable().defaultTo(knex.raw(`'{}'`));
  });
  // One live row per drop-folder path: a deleted row waiting for its cleanup job must not block
  // the file that is dropped again at the same path.
  await knex.raw('DROP INDEX documents_drop_path_key');
  await knex.raw(
    `CREATE UNIQUE INDEX documents_drop_path_key ON documents (source_path) WHERE source = 'drop' AND status <> 'deleted'`,
  );
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP INDEX documents_drop_path_key');
  await knex.raw(
    `CREATE UNIQUE INDEX documents_drop_path_key ON documents (source_path) WHERE source = 'drop'`,
  );
  await knex.schema.alterTable('documents', (t) => {
    t.dropColumn('indexed_sha256');
    t.dropColumn('index_signature');
    t.dropColumn('parser');
    t.dropColumn('warnings');
  });
}
