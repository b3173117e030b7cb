import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.js';

export type { DestinationStream, Logger };

/**
 * Where every process's log lines go: stdout, through sonic-boom. With `LOG_SYNC=false` (the
 * default) a line is queued and written by libuv's thread pool, so no request waits for the
 * write(2): written synchronously, a line cost the gateway 0.3–0.4 ms of event loop per request
 * (issue #12), and while stdout's reader is slow (a full pipe) every request would stall. Lines
 * still queued when the process ends are written synchronously by pino's `exit` hook, which runs
 * on `process.exit`, when the event loop empties and after an uncaught exception or unhandled
 * rejection (core/test/logger.test.ts); only SIGKILL (or a signal without a handler) loses them.
 */
export function logDestination(config: Pick<Config, 'LOG_SYNC'>): DestinationStream {
  return pino.destination({ dest: 1, sync: config.LOG_SYNC });
}

/** Options shared by every process's logger (the gateway hands them to Fastify). */
export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, name: string): LoggerOptions {
  return {
    name,
    level: config.LOG_LEVEL,
    // Exact paths only: a wildcard (`*.password`) made pino clone and walk every object of every
    // line, 80 µs of the gateway's request line (issue #12); an exact top-level key costs
    // nothing unless a line has it. A request is logged by the gateway's `req` serializer
    // (gateway/src/lib/request-log.ts), which writes no headers and hides a URL's `token`;
    // gateway/test/log-redaction.test.ts sends a secret through every channel and reads every line.
    redact: {
      paths: [
        'password',
        'secret',
        'token',
        'headers.authorization',
        'headers.cookie',
        'headers["x-openwebui-user-jwt"]',
      ],
      censor: '[redacted]',
    },
  };
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_SYNC'>, name: string): Logger {
  return pino(loggerOptions(config, name), logDestination(config));
}

/** Say loudly, once at start, which published demo values are still in use. */
export function warnInsecureDefaults(
  log: { warn(obj: object, msg: string): void },
  config: Pick<Config, 'insecureDefaults'>,
): void {
  if (config.insecureDefaults.length === 0) return;
  log.warn(
    { insecureDefaults: config.insecureDefaults },
    `!!! INSECURE DEFAULTS IN USE: ${config.insecureDefaults.join(', ')} still have their ` +
      'published demo values. Anyone who has read the README can sign in or read your files. ' +
      'Set them in .env before this server is reachable by anyone else. !!!',
  );
}
