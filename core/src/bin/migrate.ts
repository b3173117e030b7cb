/** `npm run migrate`: apply pending migrations and seed the admin user. Safe to run any time. */
import { loadConfig } from '../config.js';
import { createDb } from '../db/knex.js';
import { migrate } from '../db/migrate.js';
import { createLogger, warnInsecureDefaults } from '../logger.js';

const config = loadConfig();
const log = createLogger(config, 'migrate');
warnInsecureDefaults(log, config);
const db = createDb(config);
try {
  const { applied } = await migrate(db, {
    adminPassword: config.ADMIN_PASSWORD,
    adminEmail: config.ADMIN_EMAIL,
    log,
  });
  log.info({ applied: applied.length }, 'database is up to date');
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  await db.destroy();
}
