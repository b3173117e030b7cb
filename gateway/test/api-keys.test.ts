import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';

describe('API keys', () => {
  let app: FastifyInstance;
  let adminToken: string;
  let hank: { id: string; token: string };

  beforeAll(async () => {
    app = await startGateway();
    adminToken = await login(app, ADMIN.username, ADMIN.password);
    hank = await createUser(app, adminToken, { username: 'hank', groups: ['eng'] });
  });

  const createKey = (token: string, payload: object) =>
    app.inject({ method: 'POST', url: '/api-keys', headers: bearer(token), payload });

  it('creates a key whose secret is shown once and works as a bearer token', async () => {
    const res = await createKey(hank.token, { name: 'laptop script' });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created.key).toMatch(/^rk_[a-z0-9]{8}_/);
    expect(created).toMatchObject({
      name: 'laptop script',
      roles: ['user'],
      userId: hank.id,
      lastUsedAt: null,
    });
    const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(created.key) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: 'hank', via: 'api_key', groups: ['eng'] });

    // `last_used_at` is written beside the request, not before its answer: wait for it to land.
    const listKeys = () => app.inject({ method: 'GET', url: '/api-keys', headers: bearer(hank.token) });
    let list = await listKeys();
    for (let i = 0; i < 50 && list.json().keys?.[0]?.lastUsedAt === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = await listKeys();
    }
    expect(list.statusCode).toBe(200);
    expect(list.json().keys).toHaveLength(1);
    expect(list.json().keys[0].lastUsedAt).not.toBeNull();
    expect(list.body).not.toContain(created.key);
    // Only the hash is stored.
    const row = await app.db('api_keys').where({ id: created.id }).first();
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.key);
  });

  it('refuses roles the owner does not have; admins may create service keys', async () => {
    const res = await createKey(hank.token, { name: 'sneaky', roles: ['admin'] });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ROLE_NOT_ALLOWED');
    const service = await createKey(adminToken, { name: 'open-webui', roles: ['service'] });
    expect(service.statusCode).toBe(201);
    expect(service.json().roles).toEqual(['service']);
    // A service key is not an admin key: it speaks /v1 and nothing else.
    const models = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: bearer(service.json().key),
    });
    expect(models.statusCode, models.body).toBe(200);
    for (const url of ['/auth/me', '/users']) {
      const res = await app.inject({ method: 'GET', url, headers: bearer(service.json().key) });
      expect(res.statusCode, url).toBe(403);
    }
  });

  it('rejects a revoked key, an expired key and a tampered key', async () => {
    const key = (await createKey(hank.token, { name: 'to revoke' })).json();
    const revoke = await app.inject({
      method: 'DELETE',
      url: `/api-keys/${key.id}`,
      headers: bearer(hank.token),
    });
    expect(revoke.statusCode).toBe(204);
    const revoked = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(key.key) });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().code).toBe('API_KEY_REVOKED');

    const soon = (
      await createKey(hank.token, {
        name: 'short-lived',
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      })
    ).json();
    expect((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(soon.key) })).statusCode).toBe(
      200,
    );
    await app
      .db('api_keys')
      .where({ id: soon.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const expired = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(soon.key) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe('API_KEY_EXPIRED');

    const good = (await createKey(hank.token, { name: 'tamper' })).json().key as string;
    const tampered = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA');
    const res = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tampered) });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('INVALID_API_KEY');
  });

  it('rejects an expiry in the past and a missing name', async () => {
    const past = await createKey(hank.token, { name: 'old', expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(400);
    expect(past.json().code).toBe('INVALID_EXPIRY');
    const noName = await createKey(hank.token, {});
    expect(noName.statusCode).toBe(400);
  });

  it('another user’s key is 404 to revoke; admins may revoke any', async () => {
    const ivy = await createUser(app, adminToken, { username: 'ivy' });
    const key = (await createKey(hank.token, { name: 'hank only' })).json();
    const byIvy = await app.inject({
      method: 'DELETE',
      url: `/api-keys/${key.id}`,
      headers: bearer(ivy.token),
    });
    expect(byIvy.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(key.key) })).statusCode).toBe(
      200,
    );
    const byAdmin = await app.inject({
      method: 'DELETE',
      url: `/api-keys/${key.id}`,
      headers: bearer(adminToken),
    });
    expect(byAdmin.statusCode).toBe(204);
  });

  it('a key stops working when its owner is disabled, and is narrowed when the owner is demoted', async () => {
    const jo = await createUser(app, adminToken, { username: 'jo', roles: ['admin'] });
    const key = (await createKey(jo.token, { name: 'admin key', roles: ['admin'] })).json().key as string;
    expect((await app.inject({ method: 'GET', url: '/users', headers: bearer(key) })).statusCode).toBe(200);
    await app.inject({
      method: 'PATCH',
      url: `/users/${jo.id}`,
      headers: bearer(adminToken),
      payload: { roles: ['user'] },
    });
    expect((await app.inject({ method: 'GET', url: '/users', headers: bearer(key) })).statusCode).toBe(403);
    await app.inject({
      method: 'PATCH',
      url: `/users/${jo.id}`,
      headers: bearer(adminToken),
      payload: { disabled: true },
    });
    const res = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(key) });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('ACCOUNT_DISABLED');
  });
});
