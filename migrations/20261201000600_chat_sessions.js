// @ts-check
/**
 * Sign-in sessions of the chat site (trusted-header SSO in front of Open WebUI). The browser holds
 * a random token in an HttpOnly cookie; only its SHA-256 is stored, so a database dump opens no
 * session. Deleting a user deletes their sessions; a disabled user's are refused on every request.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('chat_sessions', (t) => {
    t.string('token_hash', 64).primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['user_id']);
    t.index(['expires_at']);
  });
  // Hand-off tickets already turned into a session: each works once (kept until it expires).
  await knex.schema.createTable('chat_tickets_used', (t) => {
    t.string('jti', 64).primary();
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTableIfExists('chat_tickets_used');
  await knex.schema.dropTableIfExists('chat_sessions');
}
