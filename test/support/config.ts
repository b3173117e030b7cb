import { parseConfig, type Config } from '@rattgllm/core';
import { inject } from 'vitest';

export const TEST_JWT_SECRET = 'test-jwt-secret-for-the-suite-0123456789';

/** A configuration for tests: real services from global setup, quiet logs, safe secrets. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_PASSWORD: 'admin-test-password',
    S3_ENDPOINT: inject('s3Endpoint'),
    MINIO_ROOT_USER: inject('s3AccessKey'),
    MINIO_ROOT_PASSWORD: inject('s3SecretKey'),
    LOGIN_RATE_LIMIT_MAX: '1000',
    // Files run in parallel: each ingestor's liveness endpoint takes a free port.
    INGESTOR_HEALTH_PORT: '0',
    ...overrides,
  });
}
