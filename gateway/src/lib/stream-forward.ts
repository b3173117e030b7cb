import { PassThrough, type Readable } from 'node:stream';

/**
 * The upstream's body forwarded as it arrives, after `prefix` (our own events): piped, so the
 * client's backpressure reaches the upstream socket, rather than pulled through an async
 * generator, which cost a promise and a tick per chunk on the hot path (issue #12). A failure
 * mid-stream ends the stream with what `onError` returns (an error event, or nothing when the
 * client is gone anyway); `body` may fail more than once (abort after error): all are handled.
 */
export function forwardBody(
  prefix: string,
  body: Readable,
  onError: (err: unknown) => string | undefined,
): Readable {
  const out = new PassThrough({ highWaterMark: 16 * 1024 });
  if (prefix) out.write(prefix);
  let failed = false;
  body.on('error', (err) => {
    if (failed) return;
    failed = true;
    body.unpipe(out);
    const last = onError(err);
    if (!out.destroyed && !out.writableEnded) out.end(last);
  });
  body.pipe(out);
  return out;
}
