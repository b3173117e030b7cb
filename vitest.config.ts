import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'core/test/**/*.test.ts',
      'gateway/test/**/*.test.ts',
      'ingestor/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    globalSetup: ['test/support/global-setup.ts'],
    // Each test file gets its own database, so files run in parallel safely; 2 workers fit a
    // 2-core CI machine (argon2 and Postgres want the CPU too).
    pool: 'forks',
    maxWorkers: 2,
    // The upload memory test collects garbage before each sample to see live memory only.
    execArgv: ['--expose-gc'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
