import { describe, expect, it } from 'vitest';
import { startGateway } from '../../test/support/gateway.js';

describe('GET /config', () => {
  it('publishes the upload limit and the indexed types, without signing in', async () => {
    const app = await startGateway({ MAX_UPLOAD_MB: '7' });
    const res = await app.inject({ url: '/config' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.upload.maxBytes).toBe(7 * 1024 * 1024);
    expect(body.upload.maxMb).toBe(7);
    expect(body.upload.extensions).toEqual(expect.arrayContaining(['pdf', 'docx', 'txt', 'md']));
    expect(body.upload.extensions).not.toContain('exe');
  });
});
