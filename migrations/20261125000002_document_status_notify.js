// @ts-check
/**
 * Every change to a document's status, progress, error, access or existence is announced on the
 * `document_status` channel, whichever process made it (gateway, ingestor, psql). The gateway
 * LISTENs and fans the events out to SSE clients that may read the document.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw(`
    CREATE FUNCTION rattg_notify_document_status() RETURNS trigger AS $$
    DECLARE
      d documents;
    BEGIN
      IF TG_OP = 'DELETE' THEN d := OLD; ELSE d := NEW; END IF;
      IF TG_OP = 'UPDATE'
         AND NEW.status IS NOT DISTINCT FROM OLD.status
         AND NEW.progress IS NOT DISTINCT FROM OLD.progress
         AND NEW.error IS NOT DISTINCT FROM OLD.error
         AND NEW.access IS NOT DISTINCT FROM OLD.access
         AND NEW.chunk_count IS NOT DISTINCT FROM OLD.chunk_count THEN
        RETURN NULL;
      END IF;
      -- NOTIFY payloads are limited to 8000 bytes: send the facts, not the document.
      PERFORM pg_notify('document_status', json_build_object(
        'id', d.id,
        'op', lower(TG_OP),
        'ownerId', d.owner_id,
        'access', d.access,
        'filename', left(d.filename, 255),
        'status', CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE d.status END,
        'progress', d.progress,
        'error', left(d.error, 1000),
        'chunkCount', d.chunk_count,
        'indexedAt', d.indexed_at,
        'updatedAt', d.updated_at
      )::text);
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
  `);
  await knex.raw(`
    CREATE TRIGGER documents_status_notify
    AFTER INSERT OR UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION rattg_notify_document_status();
  `);
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP TRIGGER IF EXISTS documents_status_notify ON documents');
  await knex.raw('DROP FUNCTION IF EXISTS rattg_notify_document_status()');
}
