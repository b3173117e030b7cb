/**
 * Listing past one page of object storage (ListObjectsV2 with continuation tokens), which
 * `Storage.list` relies on for the orphan sweep. The in-process s3rver answered every truncated
 * listing with 500 (test/support/s3rver-list.ts); this runs unchanged against a real S3 / MinIO.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '@rattgllm/core';
import { testConfig } from './support/config.js';

const config = testConfig({ S3_BUCKET: `paging-${randomBytes(4).toString('hex')}` });
const url = new URL(config.S3_ENDPOINT);
const client = new Client({
  endPoint: url.hostname,
  port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
  useSSL: url.protocol === 'https:',
  accessKey: config.MINIO_ROOT_USER,
  secretKey: config.MINIO_ROOT_PASSWORD,
});
const bucket = config.S3_BUCKET;
const keys = [
  'documents/a/1.txt',
  'documents/b/2.txt',
  'documents/c/3.txt',
  'documents/d/4.txt',
  'documents/e/5.txt',
];

describe('object storage listing across pages', () => {
  beforeAll(async () => {
    await createStorage(config).ensureBucket();
    for (const key of keys) await client.putObject(bucket, key, Buffer.from(key));
    await client.putObject(bucket, 'other/x.txt', Buffer.from('x'));
  });
  afterAll(async () => {
    for (const key of [...keys, 'other/x.txt']) await client.removeObject(bucket, key);
    await client.removeBucket(bucket);
  });

  it('pages with continuation tokens until every key under the prefix was listed once', async () => {
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    for (;;) {
      const page = await client.listObjectsV2Query(bucket, 'documents/', token, '', 2, '');
      pages++;
      seen.push(...page.objects.map((o) => o.name!));
      if (!page.isTruncated) break;
      expect(page.nextContinuationToken).toBeTruthy();
      token = page.nextContinuationToken;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  it('rejects a continuation token it did not issue with 400 InvalidArgument', async () => {
    await expect(
      client.listObjectsV2Query(bucket, 'documents/', 'bm90LWEtdG9rZW4', '', 2, ''),
    ).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
  });

  it('Storage.list yields every key under the prefix', async () => {
    const listed: string[] = [];
    for await (const key of createStorage(config).list('documents/')) listed.push(key);
    expect(listed.sort()).toEqual(keys);
  });
});
