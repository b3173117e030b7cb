import { relative, resolve, sep } from 'node:path';
import { GROUP_NAME_RE, type Access } from '@rattgllm/core';

/**
 * The drop folder's layout decides who may read a file:
 *   shared/…  or files at the top     → org (every signed-in user)
 *   users/<username>/…                → owned by that user, private
 *   groups/<group>/…                  → group:<group>
 * Anything else under users/ or groups/ (no name, or a file right in users/) is refused.
 */
export type DropPlacement =
  | { kind: 'org' }
  | { kind: 'user'; username: string }
  | { kind: 'group'; group: string }
  | { kind: 'invalid'; reason: string };

export function placementOf(relPath: string): DropPlacement {
  const parts = relPath.split('/');
  const [top, name] = parts;
  if (parts.length === 1 || top === 'shared') return { kind: 'org' };
  if (top === 'users') {
    if (parts.length < 3 || !name)
      return { kind: 'invalid', reason: 'files under users/ belong in users/<username>/' };
    return { kind: 'user', username: name.toLowerCase() };
  }
  if (top === 'groups') {
    if (parts.length < 3 || !name)
      return { kind: 'invalid', reason: 'files under groups/ belong in groups/<group>/' };
    if (!GROUP_NAME_RE.test(name)) return { kind: 'invalid', reason: `"${name}" is not a valid group name` };
    return { kind: 'group', group: name };
  }
  // Any other top-level folder is shared, like the top itself.
  return { kind: 'org' };
}

export function accessOf(p: Exclude<DropPlacement, { kind: 'invalid' }>): Access {
  return p.kind === 'org' ? 'org' : p.kind === 'user' ? 'private' : `group:${p.group}`;
}

const TEMP_NAME = /(^|\/)(~\$[^/]*|[^/]*\.(tmp|part|crdownload|swp)|\.[^/]*)$/i;

/** Dotfiles, dot-folders and editors' or browsers' temporary files are never indexed. */
export function isIgnoredPath(relPath: string): boolean {
  return relPath.split('/').some((seg) => seg.startsWith('.')) || TEMP_NAME.test(relPath);
}

/** A path relative to the drop folder, with `/` separators, or null when it is not inside it. */
export function relativeDropPath(root: string, absPath: string): string | null {
  const rel = relative(root, absPath);
  if (!rel || rel.startsWith('..') || resolve(root, rel) !== resolve(absPath)) return null;
  return rel.split(sep).join('/');
}
