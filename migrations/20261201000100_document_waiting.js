// @ts-check
/**
 * A document whose dependency failed transiently (embedder or Qdrant down, 5xx, timeout) is
 * `waiting`, not `failed`: the reason stays in `error` and the next attempt's time in
 * `next_attempt_at`, and the status stream announces both.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw('ALTER TABLE documents DROP CONSTRAINT documents_status_check');
  await knex.raw(`ALTER TABLE documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('pending', 'processing', 'waiting', 'indexed', 'failed', 'deleted'))`);
  await knex.schema.alterTable('documents', (t) => {
    t.timestamp('next_attempt_at', { useTz: true });
  });
  await notifyFunction(knex, true);
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await notifyFunction(knex, false);
  await knex('documents').where({ status: 'waiting' }).update({ status: 'pending' });
  await knex.schema.alterTable('documents', (t) => {
    t.dropColumn('next_attempt_at');
  });
  await knex.raw('ALTER TABLE documents DROP CONSTRAINT documents_status_check');
  await knex.raw(`ALTER TABLE documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('pending', 'processing', 'indexed', 'failed', 'deleted'))`);
}

/**
 * The trigger function of 20261125000002, with `nextAttemptAt` (and a change of it announced)
 * when `withNextAttempt`.
 *
 * @param {import('knex').Knex} knex
 * @param {boolean} withNextAttempt
 */
async function notifyFunction(knex, withNextAttempt) {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION rattg_notify_document_status() RETURNS trigger AS $$
    DECLARE
      d documents;
    BEGIN
      IF TG_OP = 'DELETE' THEN d := OLD; ELSE d := NEW; END IF;
      IF TG_OP = 'UPDATE'
         AND NEW.status IS NOT DISTINCT FROM OLD.status
         AND NEW.progress IS NOT DISTINCT FROM OLD.progress
         AND NEW.error IS NOT DISTINCT FROM OLD.error
         AND NEW.access IS NOT DISTINCT FROM OLD.access
         ${withNextAttempt ? 'AND NEW.next_attempt_at IS NOT DISTINCT FROM OLD.next_attempt_at' : ''}
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
        ${withNextAttempt ? "'nextAttemptAt', d.next_attempt_at," : ''}
        'updatedAt', d.updated_at
      )::text);
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
  `);
}
