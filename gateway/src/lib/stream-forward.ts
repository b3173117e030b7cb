import type { Readable, Writable } from 'node:stream';

/**
 * The upstream's body written to the client's response as it arrives, after `prefix` (our own
 * events): piped straight into the response, so the client's backpressure reaches the upstream
 * socket, with nothing in between (a PassThrough and Fastify's stream sending cost a pipe and a
 * tick before the first token, issue #12). A failure mid-stream ends the response with what
 * `onError` returns (an error event, or nothing when the client is gone anyway); `body` may fail
 * more than once (abort after error): all are handled.
 */
export function forwardBody(
  prefix: string,
  body: Readable,
  out: Writable,
  onError: (err: unknown) => string | undefined,
): void {
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
}
