import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';

describe('user administration', () => {
  let app: FastifyInstance;
  let adminToken: string;
  let carol: { id: string; token: string };

  beforeAll(async () => {
    app = await startGateway();
    adminToken = await login(app, ADMIN.username, ADMIN.password);
    carol = await createUser(app, adminToken, {
      username: 'carol',
      groups: ['hr'],
      email: 'Carol@Example.org',
    });
  });

  it('lists users without password hashes', async () => {
    const res = await app.inject({ method: 'GET', url: '/users', headers: bearer(adminToken) });
    expect(res.statusCode).toBe(200);
    const users = res.json().users as Record<string, unknown>[];
    expect(users.map((u) => u.username)).toEqual(['admin', 'carol']);
    expect(res.body).not.toMatch(/argon2|password/);
  });

  it('refuses non-admins on every admin route with 403', async () => {
    const calls = [
      { method: 'GET' as const, url: '/users' },
      { method: 'POST' as const, url: '/users', payload: { username: 'eve', password: 'password-123' } },
      { method: 'PATCH' as const, url: `/users/${carol.id}`, payload: { roles: ['admin'] } },
      { method: 'DELETE' as const, url: `/users/${carol.id}` },
    ];
    for (const call of calls) {
      const res = await app.inject({ ...call, headers: bearer(carol.token) });
      expect(res.statusCode, `${call.method} ${call.url}`).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
      const anon = await app.inject(call);
      expect(anon.statusCode).toBe(401);
    }
    const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(carol.token) });
    expect(me.json().roles).toEqual(['user']);
  });

  it('validates new users: bad names, short passwords, unknown roles, duplicates', async () => {
    const bad = [
      { username: 'Bad Name', password: 'password-123' },
      { username: 'dave', password: 'short' },
      { username: 'dave', password: 'password-123', roles: ['superuser'] },
      { username: 'dave', password: 'password-123', groups: ['Not A Group'] },
      { username: 'dave', password: 'password-123', email: 'not-an-email' },
      { username: 'dave', password: 'password-123', extra: true },
    ];
    for (const payload of bad) {
      const res = await app.inject({ method: 'POST', url: '/users', headers: bearer(adminToken), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_ERROR');
    }
    const dup = await app.inject({
      method: 'POST',
      url: '/users',
      headers: bearer(adminToken),
      payload: { username: 'carol', password: 'password-123' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('USERNAME_TAKEN');
    const dupEmail = await app.inject({
      method: 'POST',
      url: '/users',
      headers: bearer(adminToken),
      payload: { username: 'carol2', password: 'password-123', email: 'carol@EXAMPLE.org' },
    });
    expect(dupEmail.statusCode).toBe(409);
    expect(dupEmail.json().code).toBe('EMAIL_TAKEN');
  });

  it('changes roles, groups and email; roles take effect on the next request', async () => {
    const dave = await createUser(app, adminToken, { username: 'dave' });
    const patch = await app.inject({
      method: 'PATCH',
      url: `/users/${dave.id}`,
      headers: bearer(adminToken),
      payload: { roles: ['user', 'admin'], groups: ['ops'], email: 'dave@example.org' },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json()).toMatchObject({
      roles: ['user', 'admin'],
      groups: ['ops'],
      email: 'dave@example.org',
    });
    // Same token as before the change: roles are read from the database, not the token.
    const list = await app.inject({ method: 'GET', url: '/users', headers: bearer(dave.token) });
    expect(list.statusCode).toBe(200);
  });

  it('resets a password', async () => {
    const erin = await createUser(app, adminToken, { username: 'erin', password: 'erin-password-1' });
    const res = await app.inject({
      method: 'PATCH',
      url: `/users/${erin.id}`,
      headers: bearer(adminToken),
      payload: { password: 'erin-password-2' },
    });
    expect(res.statusCode).toBe(200);
    await login(app, 'erin', 'erin-password-2');
    await expect(login(app, 'erin', 'erin-password-1')).rejects.toThrow(/401/);
  });

  it('a disabled user cannot sign in and their token stops working at once', async () => {
    const frank = await createUser(app, adminToken, { username: 'frank' });
    expect(
      (await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(frank.token) })).statusCode,
    ).toBe(200);
    await app.inject({
      method: 'PATCH',
      url: `/users/${frank.id}`,
      headers: bearer(adminToken),
      payload: { disabled: true },
    });
    const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(frank.token) });
    expect(me.statusCode).toBe(401);
    expect(me.json().code).toBe('ACCOUNT_DISABLED');
    await expect(login(app, 'frank', 'password-123')).rejects.toThrow(/401/);
  });

  it('a deleted user’s token stops working at once; unknown ids are 404, bad ids 400', async () => {
    const gina = await createUser(app, adminToken, { username: 'gina' });
    const del = await app.inject({ method: 'DELETE', url: `/users/${gina.id}`, headers: bearer(adminToken) });
    expect(del.statusCode).toBe(204);
    expect(
      (await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(gina.token) })).statusCode,
    ).toBe(401);
    const again = await app.inject({
      method: 'DELETE',
      url: `/users/${gina.id}`,
      headers: bearer(adminToken),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('USER_NOT_FOUND');
    const bad = await app.inject({
      method: 'PATCH',
      url: '/users/not-a-uuid',
      headers: bearer(adminToken),
      payload: { disabled: true },
    });
    expect(bad.statusCode).toBe(400);
    const empty = await app.inject({
      method: 'PATCH',
      url: `/users/${carol.id}`,
      headers: bearer(adminToken),
      payload: {},
    });
    expect(empty.statusCode).toBe(400);
  });

  it('never removes the last active admin', async () => {
    const list = (await app.inject({ method: 'GET', url: '/users', headers: bearer(adminToken) })).json()
      .users as { id: string; username: string; roles: string[] }[];
    // dave was made admin above; demote him so `admin` is the only one left.
    const dave = list.find((u) => u.username === 'dave')!;
    await app.inject({
      method: 'PATCH',
      url: `/users/${dave.id}`,
      headers: bearer(adminToken),
      payload: { roles: ['user'] },
    });
    const adminId = list.find((u) => u.username === 'admin')!.id;
    for (const [payload, code] of [
      [{ disabled: true }, 'CANNOT_DISABLE_SELF'],
      [{ roles: ['user'] }, 'LAST_ADMIN'],
    ] as const) {
      const res = await app.inject({
        method: 'PATCH',
        url: `/users/${adminId}`,
        headers: bearer(adminToken),
        payload,
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe(code);
    }
    const del = await app.inject({ method: 'DELETE', url: `/users/${adminId}`, headers: bearer(adminToken) });
    expect(del.statusCode).toBe(409);
    expect(del.json().code).toBe('CANNOT_DELETE_SELF');
  });

  it('refuses deleting yourself and service accounts, with a reason; others can be deleted', async () => {
    const gina = await createUser(app, adminToken, { username: 'gina', roles: ['admin'] });
    const me = await app.inject({ method: 'DELETE', url: `/users/${gina.id}`, headers: bearer(gina.token) });
    expect(me.statusCode).toBe(409);
    expect(me.json()).toMatchObject({
      code: 'CANNOT_DELETE_SELF',
      message: 'You cannot delete your own account; ask another admin',
    });
    const svc = await createUser(app, adminToken, { username: 'indexer-bot', roles: ['service'] });
    const service = await app.inject({
      method: 'DELETE',
      url: `/users/${svc.id}`,
      headers: bearer(gina.token),
    });
    expect(service.statusCode).toBe(409);
    expect(service.json().code).toBe('SERVICE_ACCOUNT');
    expect(service.json().message).toMatch(/^indexer-bot is a service account/);
    expect(await app.db('users').where({ id: svc.id }).first('id')).toBeDefined();
    // Another admin may delete gina.
    const other = await app.inject({
      method: 'DELETE',
      url: `/users/${gina.id}`,
      headers: bearer(adminToken),
    });
    expect(other.statusCode).toBe(204);
  });

  it('writes user changes to the audit log', async () => {
    const actions = (await app.db('audit_log').select('action')).map((r: { action: string }) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['user.created', 'user.updated', 'user.deleted']));
  });
});
