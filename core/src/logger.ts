import { pino, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** Options shared by every process's logger (the gateway hands them to Fastify). */
export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, name: string): LoggerOptions {
  return {
    name,
    level: config.LOG_LEVEL,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-openwebui-user-jwt"]',
        '*.password',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  };
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino(loggerOptions(config, name));
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
