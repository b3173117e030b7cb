/**
 * ListObjectsV2 for the in-process s3rver, which cannot page: s3rver 3.7.1 seals its
 * continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) no longer offers, so every listing
 * with more than `max-keys` (at most 1000) keys answered 500 "digital envelope routines::unsupported"
 * — the minio client retried once, logged "Retryable HTTP status: 500" and failed, and
 * `Storage.list` (the ingestor's orphan sweep) broke on any bucket past 1000 objects.
 * This answers list-type=2 from s3rver's own store with S3's paging semantics and an opaque
 * token of our own; everything it does not handle (other list types, bad arguments, a missing
 * bucket) falls through to s3rver, which answers as before.
 */
import type S3rver from 's3rver';

type Ctx = Parameters<S3rver['middleware'][number]>[0];

const TOKEN_PREFIX = 'rattg1:';

const xml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? '&apos;');
const tag = (name: string, value: string | number | undefined) =>
  value === undefined ? '' : `<${name}>${xml(String(value))}</${name}>`;

export function addListObjectsV2(s3: S3rver): void {
  s3.middleware.unshift(async (ctx, next) => {
    const q = ctx.query as Record<string, string | undefined>;
    const parts = ctx.path.split('/').filter(Boolean);
    if (ctx.method !== 'GET' || parts.length !== 1 || q['list-type'] !== '2' || 'marker' in q) return next();
    const rawMax = q['max-keys'] ?? '1000';
    if (!/^\d+$/.test(rawMax)) return next();
    const store = ctx.app.store;
    const bucket = decodeURIComponent(parts[0]!);
    if (!(await store.getBucket(bucket))) return next();
    const token = q['continuation-token'];
    let startAfter = q['start-after'];
    if (token) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (!decoded.startsWith(TOKEN_PREFIX)) return invalidToken(ctx);
      startAfter = decoded.slice(TOKEN_PREFIX.length);
    }
    const maxKeys = Math.min(1000, Number(rawMax));
    const result =
      maxKeys === 0
        ? { objects: [], commonPrefixes: [], isTruncated: false }
        : await store.listObjects(bucket, {
            delimiter: q.delimiter || undefined,
            prefix: q.prefix || undefined,
            startAfter,
            maxKeys,
          });
    const last = result.objects.at(-1)?.key;
    const next_ =
      result.isTruncated && last ? Buffer.from(TOKEN_PREFIX + last).toString('base64url') : undefined;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      tag('Name', bucket) +
      `<Prefix>${xml(q.prefix ?? '')}</Prefix>` +
      tag('StartAfter', token ? undefined : q['start-after']) +
      tag('ContinuationToken', token) +
      tag('NextContinuationToken', next_) +
      tag('KeyCount', result.objects.length + result.commonPrefixes.length) +
      tag('MaxKeys', rawMax) +
      tag('Delimiter', q.delimiter || undefined) +
      tag('IsTruncated', String(result.isTruncated)) +
      result.objects
        .map(
          (o) =>
            `<Contents>${tag('Key', o.key)}${tag('LastModified', o.lastModifiedDate.toISOString())}` +
            `${tag('ETag', o.metadata.etag)}${tag('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('') +
      result.commonPrefixes.map((p) => `<CommonPrefixes>${tag('Prefix', p)}</CommonPrefixes>`).join('') +
      '</ListBucketResult>';
  });
}

function invalidToken(ctx: Ctx): void {
  ctx.status = 400;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code>' +
    '<Message>The continuation token provided is incorrect</Message>' +
    '<ArgumentName>continuation-token</ArgumentName></Error>';
}
