import fp from 'fastify-plugin';
import { BadRequestError } from '@rattgllm/core';

/**
 * Deepest JSON nesting any request body may have. Real payloads stay far below it (a chat tool's
 * JSON schema is a dozen levels); a body of 10,000 nested arrays parses fine but overflows the
 * stack of every recursive step after it — validation, `JSON.stringify` for the upstream, logs.
 */
export const MAX_JSON_DEPTH = 64;

/** Depth of a parsed JSON value, without recursion (it must not overflow on the input it rejects). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Every JSON body is checked for depth before its schema is: a clear 400, never a stack overflow. */
export default fp(
  async (fastify) => {
    // A callback hook, not an async one: no promise and no extra tick on every request (issue #12).
    fastify.addHook('preValidation', (request, _reply, done) => {
      const body = request.body;
      if (body !== null && typeof body === 'object' && jsonDepthExceeds(body, MAX_JSON_DEPTH))
        return done(
          new BadRequestError(
            `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`,
            'NESTING_TOO_DEEP',
            {
              maxDepth: MAX_JSON_DEPTH,
            },
          ),
        );
      done();
    });
  },
  { name: 'body-limits' },
);
