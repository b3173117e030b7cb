// @ts-check
/**
 * The gateway keeps API keys, users and the access facts of documents in memory for a few
 * seconds (issue #12). Every change to them is announced on the `rattg_cache` channel as
 * `<table>:<id>`, whichever process made it (gateway, ingestor, psql), so a revoked key, a
 * disabled or deleted user, or a changed owner or tag takes effect at once on every gateway.
 * Document status, access and existence are already announced on `document_status`
 * (20261125000002); this adds what that channel leaves out: owner, file name and tags.
 * API keys: not `last_used_at` (written once a minute per key in use; it changes nothing).
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw(`
    CREATE FUNCTION rattg_notify_cache() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('rattg_cache', TG_TABLE_NAME || ':' || OLD.id::text);
      ELSE
        PERFORM pg_notify('rattg_cache', TG_TABLE_NAME || ':' || NEW.id::text);
      END IF;
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
  `);
  await knex.raw(`
    CREATE TRIGGER users_cache_notify
    AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION rattg_notify_cache();
  `);
  await knex.raw(`
    CREATE TRIGGER api_keys_cache_notify
    AFTER INSERT OR DELETE OR UPDATE OF user_id, prefix, hash, roles, scopes, expires_at, revoked_at
    ON api_keys
    FOR EACH ROW EXECUTE FUNCTION rattg_notify_cache();
  `);
  await knex.raw(`
    CREATE TRIGGER documents_cache_notify
    AFTER UPDATE OF owner_id, filename, tags ON documents
    FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id
       OR OLD.filename IS DISTINCT FROM NEW.filename
       OR OLD.tags IS DISTINCT FROM NEW.tags)
    EXECUTE FUNCTION rattg_notify_cache();
  `);
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP TRIGGER IF EXISTS documents_cache_notify ON documents');
  await knex.raw('DROP TRIGGER IF EXISTS api_keys_cache_notify ON api_keys');
  await knex.raw('DROP TRIGGER IF EXISTS users_cache_notify ON users');
  await knex.raw('DROP FUNCTION IF EXISTS rattg_notify_cache()');
}
