/**
 * Schema validation failures (Ajv's `{ instancePath, keyword, params }`) in sentences for people,
 * one per field, so a form can show each next to its input: "Username is required." instead of
 * "body/username must NOT have fewer than 1 characters".
 */
export interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  message?: string;
}

import { SAFE_TEXT_PATTERN } from '../schemas/common.js';

/** `currentPassword` → "Current password"; `/roles/0` → "Roles". */
function label(field: string): string {
  const words = field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const s = (n: unknown, one: string, many: string) => `${String(n)} ${Number(n) === 1 ? one : many}`;

/** The field an issue is about (top-level name), or '' for the request as a whole. */
export function issueField(issue: ValidationIssue): string {
  if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string')
    return issue.params.missingProperty;
  if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string')
    return issue.params.additionalProperty;
  const segment = (issue.instancePath ?? '').split('/').filter((p) => p && !/^\d+$/.test(p))[0];
  return segment ?? '';
}

export function issueSentence(issue: ValidationIssue): string {
  const field = issueField(issue);
  const name = field ? label(field) : 'The request';
  const p = issue.params ?? {};
  switch (issue.keyword) {
    case 'required':
      return `${name} is required.`;
    case 'minLength':
      return p.limit === 1
        ? `${name} is required.`
        : `${name} must be at least ${s(p.limit, 'character', 'characters')}.`;
    case 'maxLength':
      return `${name} must be at most ${s(p.limit, 'character', 'characters')}.`;
    case 'pattern':
      return p.pattern === SAFE_TEXT_PATTERN
        ? `${name} must not contain control characters (such as NUL).`
        : `${name} contains characters that are not allowed, or is too short or too long.`;
    case 'format':
      return p.format === 'email'
        ? `${name} must be an e-mail address.`
        : p.format === 'uuid'
          ? `${name} must be an id (a UUID).`
          : p.format === 'date-time'
            ? `${name} must be a date and time (ISO 8601, e.g. 2026-12-31T23:59:00Z).`
            : `${name} must be a valid ${String(p.format)}.`;
    case 'type':
      return `${name} must be ${p.type === 'integer' ? 'a whole number' : p.type === 'array' ? 'a list' : `a ${String(p.type)}`}.`;
    case 'minimum':
      return `${name} must be at least ${String(p.limit)}.`;
    case 'maximum':
      return `${name} must be at most ${String(p.limit)}.`;
    case 'minItems':
      return `${name} needs at least ${s(p.limit, 'entry', 'entries')}.`;
    case 'maxItems':
      return `${name} may have at most ${s(p.limit, 'entry', 'entries')}.`;
    case 'uniqueItems':
      return `${name} lists the same entry twice.`;
    case 'additionalProperties':
      return `“${field}” is not a field of this request.`;
    case 'minProperties':
      return 'Send at least one field to change.';
    case 'enum':
      return `${name} must be one of: ${(p.allowedValues as unknown[] | undefined)?.join(', ') ?? '…'}.`;
    case 'const':
    case 'anyOf':
    case 'oneOf':
      return `${name} has a value that is not allowed.`;
    default:
      return `${name} is not valid${issue.message ? ` (${issue.message})` : ''}.`;
  }
}

/** One sentence per field (the first issue of each), and all of them as one message. */
export function describeValidation(issues: ValidationIssue[]): {
  message: string;
  fields: Record<string, string>;
} {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const field = issueField(issue) || '_';
    fields[field] ??= issueSentence(issue);
  }
  const message = Object.values(fields).join(' ') || 'The request is not valid.';
  return { message, fields };
}
