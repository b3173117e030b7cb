// @ts-check
/**
 * What an API key may be used for, narrower than its owner's roles: `read` (list, open and search
 * documents), `chat` (/v1), `upload` (add, change and delete own documents), `admin` (user
 * administration). NULL means "not narrowed" — every key made before scopes existed, and the
 * Open WebUI service key — so nothing that works today stops working.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.alterTable('api_keys', (t) => {
    t.specificType('scopes', 'text[]');
  });
  await knex.raw(`
    ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
      CHECK (scopes IS NULL OR (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'chat', 'upload', 'admin']))`);
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropColumn('scopes');
  });
}
