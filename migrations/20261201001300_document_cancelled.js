// @ts-check
/**
 * A person can stop a document's indexing: `cancelled` (nothing is retried or re-queued until
 * someone re-indexes it). `processing_started_at` is when the current or last run began, so the
 * queue view can measure throughput (bytes per second of recent runs) instead of guessing it.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.raw('ALTER TABLE documents DROP CONSTRAINT documents_status_check');
  await knex.raw(`ALTER TABLE documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('pending', 'processing', 'waiting', 'indexed', 'failed', 'cancelled', 'deleted'))`);
  await knex.schema.alterTable('documents', (t) => {
    t.timestamp('processing_started_at', { useTz: true });
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex('documents')
    .where({ status: 'cancelled' })
    .update({ status: 'failed', error: 'Indexing was cancelled' });
  await knex.schema.alterTable('documents', (t) => {
    t.dropColumn('processing_started_at');
  });
  await knex.raw('ALTER TABLE documents DROP CONSTRAINT documents_status_check');
  await knex.raw(`ALTER TABLE documents ADD CONSTRAINT documents_status_check
    CHECK (status IN ('pending', 'processing', 'waiting', 'indexed', 'failed', 'deleted'))`);
}
