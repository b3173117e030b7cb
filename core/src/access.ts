/**
 * The access model, written once. A document's `access` is `private`, `org` or `group:<name>`;
 * a user reads a document when one of the user's principals is among the document's principals.
 * The same strings are stored in the vector index, so lists, downloads, search, chat context and
 * citations all apply this one rule: `canRead` in memory, `whereReadable` in SQL, and
 * `documentPrincipals` as the index payload the search filter matches.
 */
import type { Knex } from './db/knex.js';
import { whereLive, type DocumentRow } from './documents/row.js';

export type Access = 'private' | 'org' | `group:${string}`;

export const ROLES = ['admin', 'user', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  id: string;
  roles: readonly string[];
  groups: readonly string[];
}

export const GROUP_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isAdmin(user: Pick<Principal, 'roles'>): boolean {
  return user.roles.includes('admin');
}

/** Principals a user reads with: `user:<id>`, `org`, and `group:<name>` for each group. */
export function principalsOf(user: Principal): string[] {
  return [`user:${user.id}`, 'org', ...user.groups.map((g) => `group:${g}`)];
}

/**
 * Principals that may read a document with this owner and access. A document without an owner
 * (shared drop-folder files, or a deleted user's) is read through its access alone; a private one
 * without an owner has no readers but admins.
 */
export function documentPrincipals(ownerId: string | null, access: Access): string[] {
  const owner = ownerId ? [`user:${ownerId}`] : [];
  if (access === 'org') return ['org', ...owner];
  if (access.startsWith('group:')) return [access, ...owner];
  return owner;
}

/** `documentPrincipals` of a `documents` row: what the index stores with its passages. */
export function rowPrincipals(row: Pick<DocumentRow, 'owner_id' | 'access'>): string[] {
  return documentPrincipals(row.owner_id, row.access as Access);
}

export function parseAccess(value: string): Access | null {
  if (value === 'private' || value === 'org') return value;
  if (value.startsWith('group:') && GROUP_NAME_RE.test(value.slice(6))) return value as Access;
  return null;
}

export function canRead(user: Principal, doc: { ownerId: string | null; access: Access }): boolean {
  if (isAdmin(user)) return true;
  const mine = new Set(principalsOf(user));
  return documentPrincipals(doc.ownerId, doc.access).some((p) => mine.has(p));
}

/** Who may change or delete a document (access, tags, reindex): its owner, or an admin. */
export function canManage(user: Principal, doc: { ownerId: string | null }): boolean {
  return isAdmin(user) || (doc.ownerId !== null && doc.ownerId === user.id);
}

/**
 * `canRead` as SQL over `documents`, plus "not deleted" (a deleted document is gone for everybody,
 * admins included). A document's principals are `user:<owner>` and its access when that is `org`
 * or `group:…`, so a user reads a row they own or whose access is one of their principals.
 */
export function whereReadable<Q extends Knex.QueryBuilder>(query: Q, user: Principal): Q {
  whereLive(query);
  if (isAdmin(user)) return query;
  return query.where((q) =>
    q.where('documents.owner_id', user.id).orWhereIn('documents.access', principalsOf(user)),
  ) as Q;
}
