import { Readable } from 'node:stream';

/**
 * Read the first `bytes` of a stream (for content sniffing) without losing them: returns that head
 * and a stream that replays it followed by the rest. `complete` is true when the stream ended
 * within the head.
 */
export async function peekStream(
  source: Readable,
  bytes: number,
): Promise<{ head: Buffer; stream: Readable; complete: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let complete = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      complete = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks, length);
  async function* replay() {
    yield head;
    if (complete) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const stream = Readable.from(replay(), { objectMode: false });
  // Destroying the replay (e.g. the upload failed) must also release the source.
  stream.on('close', () => {
    if (!complete) void iterator.return?.();
  });
  return { head: head.subarray(0, Math.min(length, bytes)), stream, complete };
}
