// HEALTHCHECK of the ingestor container: the worker process is up (this runs inside its container)
// and Postgres, where its job queue lives, answers. It reads the configuration the way every
// rattgllm process does (core's loadConfig), so it checks the database the worker uses.
// Exit 0 = healthy, 1 = unhealthy (Docker's contract).
import { clearTimeout, setTimeout } from 'node:timers';
import { createDb, loadConfig } from '@rattgllm/core';

const timer = setTimeout(() => {
  console.error('ingestor healthcheck: Postgres did not answer within 5s');
  process.exit(1);
}, 5000);

let db;
try {
  db = createDb({ ...loadConfig(), DATABASE_POOL_MAX: 2 });
  await db.raw('select 1');
  process.exitCode = 0;
} catch (err) {
  console.error(`ingestor healthcheck: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await db?.destroy();
}
