/* global fetch, AbortSignal -- Node 24 globals; the lint config lists only the common ones for .mjs */
// HEALTHCHECK of the ingestor container: asks the ingestor process itself (GET /health on
// 127.0.0.1:INGESTOR_HEALTH_PORT, ingestor/src/health.ts). A process that is frozen, has lost its
// worker or its drop-folder watcher does not answer 200; one that waits for Postgres to come back
// answers 200 `degraded` (a restart would not help). The port comes from core's loadConfig, as
// every rattgllm process reads its settings. Exit 0 = healthy, 1 = unhealthy (Docker's contract).
import { loadConfig } from '@rattgllm/core';

let port;
try {
  port = loadConfig().INGESTOR_HEALTH_PORT;
} catch (err) {
  console.error(`ingestor healthcheck: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  console.log(body.slice(0, 2000));
  process.exitCode = res.status === 200 ? 0 : 1;
} catch (err) {
  console.error(
    `ingestor healthcheck: no answer on 127.0.0.1:${port}/health (${err instanceof Error ? err.message : String(err)})`,
  );
  process.exitCode = 1;
}
