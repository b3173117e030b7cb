// @ts-check
/**
 * One row per running ingestor, rewritten every few seconds (core/src/ingestorHealth.ts). The
 * gateway reads it to report the ingestor in /ready: with `--scale ingestor=3` every replica has a
 * row, which no single HTTP address could show. A clean stop deletes its row; a killed one stops
 * beating and reads as down once its beat is older than three intervals, and is forgotten after an
 * hour. The id is hostname:pid, so a restarted container (same hostname, pid 1) takes its row back.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('ingestor_heartbeats', (t) => {
    t.text('instance_id').primary();
    t.text('hostname').notNullable();
    t.integer('pid').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('beat_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('status').notNullable();
    // What /health of that ingestor said: checks with their reasons, drop queue counts.
    t.jsonb('detail').notNullable().defaultTo('{}');
  });
  await knex.raw(
    `ALTER TABLE ingestor_heartbeats ADD CONSTRAINT ingestor_heartbeats_status_check
     CHECK (status IN ('ok', 'degraded', 'down'))`,
  );
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('ingestor_heartbeats');
}
