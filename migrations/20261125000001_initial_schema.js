// @ts-check
/**
 * Initial schema: users, api_keys, documents, chunks, audit_log (see ../shared/DESIGN.md).
 * The vectors live in Qdrant; `chunks` records what was embedded and under which point id.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('username').notNullable().unique();
    t.text('email');
    t.text('password_hash').notNullable();
    t.specificType('roles', 'text[]').notNullable().defaultTo(knex.raw(`'{user}'`));
    t.specificType('groups', 'text[]').notNullable().defaultTo(knex.raw(`'{}'`));
    t.boolean('disabled').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Open WebUI accounts are matched by email, case-insensitively.
  await knex.raw('CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))');

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('prefix').notNullable().unique();
    t.text('hash').notNullable().unique();
    t.specificType('roles', 'text[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.index(['user_id']);
  });

  await knex.schema.createTable('documents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // A deleted user's documents stay (admins can still read, re-assign or delete them).
    t.uuid('owner_id').references('users.id').onDelete('SET NULL');
    t.text('filename').notNullable();
    t.text('mime').notNullable();
    t.bigInteger('size').notNullable();
    t.text('sha256').notNullable();
    t.text('storage_key').notNullable();
    t.text('source').notNullable().defaultTo('upload');
    t.text('source_path');
    t.text('access').notNullable().defaultTo('private');
    t.specificType('tags', 'text[]').notNullable().defaultTo(knex.raw(`'{}'`));
    t.text('status').notNullable().defaultTo('pending');
    t.specificType('progress', 'real').notNullable().defaultTo(0);
    t.text('error');
    t.integer('chunk_count').notNullable().defaultTo(0);
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('indexed_at', { useTz: true });
    t.index(['owner_id', 'sha256']);
    t.index(['status']);
    t.index(['created_at']);
  });
  await knex.raw(`ALTER TABLE documents
    ADD CONSTRAINT documents_source_check CHECK (source IN ('upload', 'drop')),
    ADD CONSTRAINT documents_status_check
      CHECK (status IN ('pending', 'processing', 'indexed', 'failed', 'deleted')),
    ADD CONSTRAINT documents_access_check
      CHECK (access IN ('private', 'org') OR access ~ '^group:[a-z0-9][a-z0-9._-]{0,63}$'),
    ADD CONSTRAINT documents_progress_check CHECK (progress >= 0 AND progress <= 1)`);
  // One row per file in the drop folder.
  await knex.raw(
    `CREATE UNIQUE INDEX documents_drop_path_key ON documents (source_path) WHERE source = 'drop'`,
  );

  await knex.schema.createTable('chunks', (t) => {
    t.uuid('document_id').notNullable().references('documents.id').onDelete('CASCADE');
    t.integer('index').notNullable();
    t.text('text').notNullable();
    t.integer('page');
    t.text('heading');
    t.integer('token_count').notNullable();
    t.uuid('point_id').notNullable().unique();
    t.primary(['document_id', 'index']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // No foreign key: the log outlives the users it mentions.
    t.uuid('actor_id');
    t.text('actor_name');
    t.text('action').notNullable();
    t.text('target_type');
    t.text('target_id');
    t.text('ip');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.index(['at']);
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('audit_log');
  await knex.schema.dropTable('chunks');
  await knex.schema.dropTable('documents');
  await knex.schema.dropTable('api_keys');
  await knex.schema.dropTable('users');
}
