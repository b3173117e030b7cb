import type { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';

/** Every error body the gateway sends. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String({ description: 'What was wrong, in words' }),
    code: Type.String({ description: 'Stable machine-readable code' }),
  },
  { $id: 'ErrorBody', additionalProperties: true },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorBody')]));

/** A file's bytes, sent as a stream (never serialized): `format: binary` in the OpenAPI document. */
export const FileBytes = Type.Unsafe<Readable | Buffer>({ type: 'string', format: 'binary' });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const Username = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{1,63}$',
  description: 'lower-case letters, digits, dot, dash, underscore; 2–64 characters',
});
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const GroupName = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' });
export const RoleName = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('service')]);
/** What an API key may be narrowed to (see migrations/20261201000500_api_key_scopes.js). */
export const ScopeName = Type.Union(
  [Type.Literal('read'), Type.Literal('chat'), Type.Literal('upload'), Type.Literal('admin')],
  { description: 'read (list, open, search), chat (/v1), upload (add, change, delete own documents), admin' },
);
export type Scope = Static<typeof ScopeName>;
export const Email = Type.String({ format: 'email', maxLength: 320 });

/**
 * Text that goes into SQL as a value: no control characters. Postgres cannot store NUL at all
 * (a 500 before this), and the others have no business in a name, tag or search.
 */
export const SAFE_TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
export const SafeText = (options: { maxLength: number; minLength?: number; description?: string }) =>
  Type.String({ ...options, pattern: SAFE_TEXT_PATTERN });

/** Postgres' OFFSET is a bigint; anything near that is no page of ours. */
export const MAX_OFFSET = 1_000_000_000;
