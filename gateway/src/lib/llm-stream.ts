import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * A streamed chat answer from the upstream, over undici's `dispatch` with a handler of our own:
 * its chunks are written to the client's response in the callback that parsed them, with no
 * BodyReadable, pipe or promise in between (each was a tick and a stream's bookkeeping before
 * the first token, issue #12). The client's backpressure pauses the upstream socket.
 */
export interface UpstreamStream {
  statusCode: number;
  /**
   * Writes `prefix` (our own events), then the answer's bytes as they arrive, to `out`, and ends
   * it. A failure after the headers ends `out` with what `onError` returns (an error event, or
   * nothing when the client is gone anyway), unless `out` is already destroyed.
   */
  forward(prefix: string, out: Writable, onError: (err: unknown) => string | undefined): void;
  /** Stops the answer (the client left): the upstream request is aborted. A no-op once ended. */
  destroy(): void;
}

export interface StreamRequest {
  dispatcher: Dispatcher;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** The error for a non-2xx answer, from its status and (the start of) its body. */
  failure(statusCode: number, text: string): unknown;
  /** The error for a failure before any answer (network, timeout, the caller's abort). */
  translate(err: unknown): unknown;
  /** Read at most this much of an error answer. */
  errorLimit: number;
}

/** What may wait for `forward` before the upstream is paused. */
const QUEUE_LIMIT = 64 * 1024;

/** POSTs `body`; resolves once a 2xx answer's headers arrived (then `forward` its body). */
export function streamRequest(o: StreamRequest): Promise<UpstreamStream> {
  return new Promise((resolve, reject) => {
    const { signal } = o;
    if (signal.aborted) return reject(o.translate(signal.reason));
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let settled = false;
    let errorText = '';
    // Before `forward`: what arrived with the headers, and whether the answer is over.
    let queued: Buffer[] = [];
    let queuedBytes = 0;
    let ended = false;
    let failed: { err: unknown } | undefined;
    let out: Writable | undefined;
    let onError: ((err: unknown) => string | undefined) | undefined;

    const onAbort = () => controller?.abort(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const onDrain = () => controller?.resume();
    const cleanup = () => {
      signal.removeEventListener('abort', onAbort);
      out?.off('drain', onDrain);
    };
    const ok = () => status >= 200 && status < 300;
    const settle = (err: unknown) => {
      settled = true;
      cleanup();
      reject(err);
    };
    // A failure after the headers, told once `out` is there to hear of it.
    const tell = (err: unknown) => {
      const last = onError!(err);
      if (!out!.destroyed && !out!.writableEnded) out!.end(last);
    };
    const write = (chunk: Buffer) => {
      // Gone (its 'close' destroys the upstream request): nothing more to write to.
      if (out!.destroyed) return;
      if (!out!.write(chunk)) controller?.pause();
    };

    const stream: UpstreamStream = {
      get statusCode() {
        return status;
      },
      forward(prefix, target, handleError) {
        out = target;
        onError = handleError;
        target.on('drain', onDrain);
        // One write for our events and what already came: one syscall, not one per piece.
        target.cork();
        if (prefix) target.write(prefix);
        for (const chunk of queued) write(chunk);
        queued = [];
        target.uncork();
        if (queuedBytes >= QUEUE_LIMIT && !target.writableNeedDrain) controller?.resume();
        if (failed) tell(failed.err);
        else if (ended && !target.destroyed) target.end();
      },
      destroy() {
        if (!ended && !failed) controller?.abort(new Error('client closed the connection'));
      },
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(signal.reason as Error);
      },
      onResponseStart(_c, statusCode) {
        status = statusCode;
        if (!ok()) return;
        settled = true;
        resolve(stream);
      },
      onResponseData(c, chunk) {
        if (!ok()) {
          errorText += chunk.toString('utf8');
          if (errorText.length >= o.errorLimit) {
            settle(o.failure(status, errorText));
            c.abort(new Error('error answer too long'));
          }
          return;
        }
        if (out) return write(chunk);
        queued.push(chunk);
        // Nobody reads yet: hold the upstream rather than buffer a whole answer.
        queuedBytes += chunk.length;
        if (queuedBytes >= QUEUE_LIMIT) c.pause();
      },
      onResponseEnd() {
        if (!settled) return settle(o.failure(status, errorText));
        ended = true;
        cleanup();
        if (out && !out.destroyed) out.end();
      },
      onResponseError(_c, err) {
        if (!settled)
          return settle(status && !signal.aborted ? o.failure(status, errorText) : o.translate(err));
        if (ended || failed) return;
        failed = { err };
        cleanup();
        if (out) tell(err);
      },
    };
    o.dispatcher.dispatch(
      { origin: o.origin, path: o.path, method: 'POST', headers: o.headers, body: o.body },
      handler,
    );
  });
}
