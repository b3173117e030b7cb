import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, login, startGateway } from '../../test/support/gateway.js';
import { describeValidation } from '../src/lib/validation.js';

describe('validation errors in sentences, per field', () => {
  let app: FastifyInstance;
  let admin: string;
  beforeAll(async () => {
    app = await startGateway();
    admin = await login(app, ADMIN.username, ADMIN.password);
  });

  it('an empty sign-in says which field is missing, in words', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: '', password: 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'Username is required.',
      fields: { username: 'Username is required.' },
    });
    expect(res.body).not.toMatch(/must NOT|body\//);
  });

  it('a short password, a bad e-mail, an unknown field and a bad query read as sentences', async () => {
    const short = await app.inject({
      method: 'POST',
      url: '/users',
      headers: bearer(admin),
      payload: { username: 'carol', password: 'short' },
    });
    expect(short.json().fields).toEqual({ password: 'Password must be at least 8 characters.' });
    const email = await app.inject({
      method: 'POST',
      url: '/users',
      headers: bearer(admin),
      payload: { username: 'carol', password: 'long-enough-1', email: 'not-an-address' },
    });
    expect(email.json().fields).toEqual({ email: 'Email must be an e-mail address.' });
    const unknown = await app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: bearer(admin),
      payload: { currentPassword: ADMIN.password, newPassword: 'new-password-1', extra: 1 },
    });
    expect(unknown.json().message).toBe('“extra” is not a field of this request.');
    const query = await app.inject({ url: '/documents?limit=0', headers: bearer(admin) });
    expect(query.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      fields: { limit: 'Limit must be at least 1.' },
    });
  });

  it('words for every kind of issue, and one sentence per field', () => {
    const { message, fields } = describeValidation([
      { instancePath: '/expiresAt', keyword: 'format', params: { format: 'date-time' } },
      { instancePath: '/roles/1', keyword: 'uniqueItems', params: {} },
      { instancePath: '/roles', keyword: 'minItems', params: { limit: 1 } },
    ]);
    expect(fields).toEqual({
      expiresAt: 'Expires at must be a date and time (ISO 8601, e.g. 2026-12-31T23:59:00Z).',
      roles: 'Roles lists the same entry twice.',
    });
    expect(message).toBe(`${fields.expiresAt} ${fields.roles}`);
  });
});
