// @ts-check
/**
 * Counters of the login rate limits, shared by every gateway replica (issue #11: with the
 * counts in each process's memory, `--scale gateway=2` doubled the limit). One row per limited
 * key (a SHA-256 of e.g. `login-ip:<address>`), its hits and when its window ends.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('rate_limits', (t) => {
    t.text('key').primary();
    t.integer('hits').notNullable();
    t.timestamp('reset_at', { useTz: true }).notNullable();
  });
  // Expired rows are swept by `reset_at`.
  await knex.raw('CREATE INDEX rate_limits_reset_at ON rate_limits (reset_at)');
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('rate_limits');
}
