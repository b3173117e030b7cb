import { BadRequestError, ForbiddenError, isAdmin, parseAccess, type Access } from '@rattgllm/core';
import type { AuthUser } from '../../plugins/app/auth.js';

/** `access` as given by a client, checked against what the caller may grant. */
export function parseAccessField(value: string | undefined, me: AuthUser): Access {
  const access = parseAccess((value ?? 'private').trim());
  if (!access)
    throw new BadRequestError(
      `access must be "private", "org" or "group:<name>", not "${String(value).slice(0, 80)}"`,
      'INVALID_ACCESS',
    );
  if (access.startsWith('group:') && !isAdmin(me) && !me.groups.includes(access.slice(6)))
    throw new ForbiddenError(`You are not a member of ${access}`, 'NOT_IN_GROUP');
  return access;
}

const TAG_RE = /^[\p{L}\p{N}][\p{L}\p{N} _.:-]{0,63}$/u;

/** Tags from form fields (comma-separated or repeated) or a JSON array; trimmed, unique. */
export function parseTags(values: string[]): string[] {
  const tags = [
    ...new Set(
      values
        .flatMap((v) => v.split(','))
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  const bad = tags.find((t) => !TAG_RE.test(t));
  if (bad !== undefined)
    throw new BadRequestError(
      `Invalid tag "${bad.slice(0, 80)}": letters, digits, space, _ . : - (max 64)`,
      'INVALID_TAG',
    );
  if (tags.length > 32) throw new BadRequestError('At most 32 tags', 'INVALID_TAG');
  return tags;
}
