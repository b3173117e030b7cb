/** Starts the gateway: listen, and close gracefully on SIGTERM/SIGINT. */
import { loadConfigOrExit } from '@rattgllm/core';
import { buildApp } from './build.js';

const config = loadConfigOrExit();

/**
 * Compose waits 10 s after SIGTERM before it kills. Live-status streams get a final event and
 * end at once (events plugin); a chat answer still streaming gets until this deadline, then its
 * connection is cut, so the process always exits before the kill.
 */
const SHUTDOWN_DEADLINE_MS = 3_000;

const app = await buildApp(config);
let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.warn('requests still open at the shutdown deadline; closing their connections');
      app.server.closeAllConnections();
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  });
}
await app.listen({ host: config.HOST, port: config.PORT });
