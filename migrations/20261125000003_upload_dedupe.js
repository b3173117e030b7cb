// @ts-check
/**
 * The same content uploaded twice by the same owner is one document. The upload route checks
 * first; this index settles the race between two identical uploads in flight at once.
 * (Drop-folder files are keyed by path instead: the same bytes at two paths are two documents.)
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw(`CREATE UNIQUE INDEX documents_upload_owner_sha256_key ON documents (owner_id, sha256)
    WHERE source = 'upload' AND status <> 'deleted'`);
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP INDEX IF EXISTS documents_upload_owner_sha256_key');
}
