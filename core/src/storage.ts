import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { Client } from 'minio';
import type { Config } from './config.js';
import { AppError, NotFoundError, ServiceUnavailableError } from './errors.js';
import { truncateFilename } from './files.js';

/** One S3 part: a large upload holds at most this much of a file in memory at a time. */
export const PART_SIZE = 16 * 1024 * 1024;

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(
      413,
      'FILE_TOO_LARGE',
      `The file is larger than the limit of ${Math.round(limitBytes / 1048576)} MB`,
      {
        limitBytes,
      },
    );
  }
}

/**
 * Counts and hashes the bytes passing through, and fails the stream as soon as it passes `limit`
 * bytes, so an oversized upload is stopped mid-stream instead of being stored first.
 */
export class HashingCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new PayloadTooLargeError(this.limit));
    this.hash.update(chunk);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Cut a stream into parts of exactly `size` bytes (the last one shorter, possibly empty), copying
 * into one preallocated buffer per part. `final` marks the part that ends the stream.
 */
async function* readParts(
  stream: AsyncIterable<Buffer>,
  size: number,
): AsyncGenerator<{ data: Buffer; final: boolean }> {
  let part = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of stream) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = chunk.copy(part, filled, offset, offset + (size - filled));
      filled += n;
      offset += n;
      if (filled === size) {
        yield { data: part, final: false };
        part = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  yield { data: part.subarray(0, filled), final: true };
}

export interface StoredObject {
  key: string;
  size: number;
  sha256: string;
}

export interface ObjectStat {
  size: number;
  contentType?: string;
}

/** Object storage (MinIO or any S3 store, path-style). Objects: `documents/<id>/<file name>`. */
export interface Storage {
  readonly bucket: string;
  ensureBucket(): Promise<void>;
  /** Stream `source` into `key` while hashing it; rejects with PayloadTooLargeError past `limit`. */
  put(key: string, source: Readable, options: { contentType: string; limit?: number }): Promise<StoredObject>;
  /** Rejects with a NotFoundError (`OBJECT_MISSING`, permanent) when there is no such object. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  stat(key: string): Promise<ObjectStat | null>;
  remove(key: string): Promise<void>;
  /** Keys under `prefix`; with `modifiedBefore`, only objects last written before then. */
  list(prefix: string, options?: { modifiedBefore?: Date }): AsyncIterable<string>;
}

/**
 * `documents/<id>/<file name>`. The name part is cut to 200 bytes (extension kept): file-backed
 * stores (MinIO, s3rver) keep each key segment as a file name, which filesystems cap at 255 bytes.
 */
export function objectKey(documentId: string, filename: string): string {
  return `documents/${documentId}/${truncateFilename(filename, 200)}`;
}

function unavailable(endpoint: string, err: unknown): never {
  if (err instanceof AppError) throw err;
  const code = (err as { code?: string }).code ?? '';
  const reason = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT/.test(code)
    ? `refused the connection (${code})`
    : `failed: ${(err as Error).message}`;
  throw new ServiceUnavailableError(`Object storage at ${endpoint} ${reason}`, 'STORAGE_UNAVAILABLE');
}

export function createStorage(
  config: Pick<Config, 'S3_ENDPOINT' | 'S3_REGION' | 'S3_BUCKET' | 'MINIO_ROOT_USER' | 'MINIO_ROOT_PASSWORD'>,
): Storage {
  const url = new URL(config.S3_ENDPOINT);
  const useSSL = url.protocol === 'https:';
  const client = new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.MINIO_ROOT_USER,
    secretKey: config.MINIO_ROOT_PASSWORD,
    region: config.S3_REGION,
    pathStyle: true,
    partSize: PART_SIZE,
  });
  const bucket = config.S3_BUCKET;
  const endpoint = config.S3_ENDPOINT;

  return {
    bucket,
    async ensureBucket() {
      try {
        if (!(await client.bucketExists(bucket))) await client.makeBucket(bucket, config.S3_REGION);
      } catch (err) {
        // Two processes starting together may both try to create it.
        const code = (err as { code?: string }).code;
        if (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists') return;
        unavailable(endpoint, err);
      }
    },
    async put(key, source, { contentType, limit }) {
      const counter = new HashingCounter(limit);
      // If the source fails (client gone, limit hit), the counter fails too and the upload aborts.
      source.on('error', (err) => counter.destroy(err));
      source.pipe(counter);
      const meta = { 'Content-Type': contentType };
      let uploadId: string | undefined;
      try {
        // A file that fits in one part goes up in one PUT; a larger one as a multipart upload, one
        // part at a time. We read the next part only after the previous one is stored, so the
        // client is held back (TCP backpressure) and one part is all we hold. (The minio client's
        // own putObject for streams of unknown size queues up to 16 parts in its chunker.)
        const etags: { part: number; etag: string }[] = [];
        let partNumber = 1;
        for await (const { data, final } of readParts(counter, PART_SIZE)) {
          if (!uploadId) {
            if (final) {
              await client.putObject(bucket, key, data, data.length, meta);
              break;
            }
            uploadId = await client.initiateNewMultipartUpload(bucket, key, meta);
          }
          if (data.length === 0) break;
          const { etag } = await client.uploadPart(
            { bucketName: bucket, objectName: key, uploadID: uploadId, partNumber, headers: {} },
            data,
          );
          etags.push({ part: partNumber++, etag });
        }
        if (uploadId) await client.completeMultipartUpload(bucket, key, uploadId, etags);
      } catch (err) {
        if (uploadId) await client.abortMultipartUpload(bucket, key, uploadId).catch(() => {});
        source.unpipe(counter);
        source.resume();
        // The counter's own error (e.g. too large) is the real cause, not the S3 client's echo of it.
        const cause = (counter.errored as Error | null) ?? err;
        await client.removeObject(bucket, key).catch(() => {});
        if (cause instanceof AppError) throw cause;
        unavailable(endpoint, cause);
      }
      return { key, size: counter.bytes, sha256: counter.digest() };
    },
    async get(key, range) {
      try {
        return range
          ? await client.getPartialObject(bucket, key, range.start, range.end - range.start + 1)
          : await client.getObject(bucket, key);
      } catch (err) {
        // Not an outage: retrying cannot bring the file back (core's classifyError: permanent).
        if ((err as { code?: string }).code === 'NoSuchKey')
          throw new NotFoundError(
            'The stored file is missing from object storage; upload it again',
            'OBJECT_MISSING',
          );
        unavailable(endpoint, err);
      }
    },
    async stat(key) {
      try {
        const s = await client.statObject(bucket, key);
        return { size: s.size, contentType: s.metaData?.['content-type'] as string | undefined };
      } catch (err) {
        if ((err as { code?: string }).code === 'NotFound' || (err as { code?: string }).code === 'NoSuchKey')
          return null;
        unavailable(endpoint, err);
      }
    },
    async remove(key) {
      try {
        await client.removeObject(bucket, key);
      } catch (err) {
        if ((err as { code?: string }).code === 'NoSuchKey') return;
        unavailable(endpoint, err);
      }
    },
    async *list(prefix, options = {}) {
      const stream = client.listObjectsV2(bucket, prefix, true);
      const before = options.modifiedBefore?.getTime();
      for await (const item of stream as AsyncIterable<{ name?: string; lastModified?: Date }>) {
        if (!item.name) continue;
        if (before !== undefined && item.lastModified && item.lastModified.getTime() >= before) continue;
        yield item.name;
      }
    },
  };
}
