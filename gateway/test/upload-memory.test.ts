import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { PART_SIZE } from '@rattgllm/core';
import { ADMIN, bearer, login, startGateway } from '../../test/support/gateway.js';

// Six parts long: the in-process S3 (or a real one with S3_ENDPOINT) takes it as a multipart upload.
const FILE_BYTES = 6 * PART_SIZE + 12345;
const MiB = 1024 * 1024;

describe('streamed upload memory', () => {
  it(`holds at most about one storage part in memory (${Math.round(FILE_BYTES / MiB)} MiB file)`, async () => {
    const app = await startGateway({ MAX_UPLOAD_MB: String(Math.ceil(FILE_BYTES / MiB) + 1) });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const token = await login(app, ADMIN.username, ADMIN.password);
    const boundary = 'memtestboundary';
    const line = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n');
    function* body() {
      yield Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.txt"\r\ncontent-type: text/plain\r\n\r\n`,
      );
      const block = Buffer.concat(Array.from({ length: Math.floor(65536 / line.length) }, () => line));
      let sent = 0;
      while (sent < FILE_BYTES) {
        const piece = block.subarray(0, Math.min(block.length, FILE_BYTES - sent));
        sent += piece.length;
        yield piece;
      }
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    global.gc?.();
    const before = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      global.gc?.();
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - (before.heapUsed + before.arrayBuffers));
    }, 5);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/upload`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      pipeline(Readable.from(body()), req).catch(reject);
    });
    clearInterval(sampler);
    expect(status).toBe(201);
    expect(global.gc, 'run with --expose-gc (vitest.config.ts execArgv)').toBeTypeOf('function');
    const row = await app.db('documents').where({ filename: 'big.txt' }).first();
    expect(Number(row.size)).toBe(FILE_BYTES);
    // One part in flight, one being filled, plus stream buffers and garbage not yet collected;
    // buffering the file would need six parts.
    expect(peak).toBeLessThan(2 * PART_SIZE + 16 * MiB);
    console.info(
      `upload of ${Math.round(FILE_BYTES / MiB)} MiB: peak heap+buffers growth ${Math.round(peak / MiB)} MiB`,
    );
  }, 120_000);
});
