import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ADMIN, bearer, createUser, login, startGateway } from '../../test/support/gateway.js';
import { multipart } from '../../test/support/multipart.js';

describe('API keys narrowed by scope and expiry', () => {
  let app: FastifyInstance;
  let adminToken: string;
  let ivy: { id: string; token: string };
  let docId: string;

  beforeAll(async () => {
    app = await startGateway();
    adminToken = await login(app, ADMIN.username, ADMIN.password);
    ivy = await createUser(app, adminToken, { username: 'ivy' });
    const form = multipart([{ filename: 'ivy.txt', content: 'Ivy’s notes.\n', contentType: 'text/plain' }]);
    const up = await app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...bearer(ivy.token), ...form.headers },
      payload: form.payload,
    });
    expect(up.statusCode).toBe(201);
    docId = up.json().documents[0].id;
  });

  const makeKey = async (token: string, payload: object) =>
    app.inject({ method: 'POST', url: '/api-keys', headers: bearer(token), payload });
  const keyOf = async (token: string, payload: object) => {
    const res = await makeKey(token, payload);
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; key: string; scopes: string[] | null; expiresAt: string | null };
  };
  const upload = (key: string) => {
    const form = multipart([
      { filename: `n-${Math.random()}.txt`, content: `x ${Math.random()}\n`, contentType: 'text/plain' },
    ]);
    return app.inject({
      method: 'POST',
      url: '/upload',
      headers: { ...bearer(key), ...form.headers },
      payload: form.payload,
    });
  };

  it('a read key reads and opens documents but cannot upload, delete, chat or change the password', async () => {
    const read = await keyOf(ivy.token, { name: 'reader', scopes: ['read'] });
    expect(read.scopes).toEqual(['read']);
    const headers = bearer(read.key);
    expect((await app.inject({ url: '/documents', headers })).statusCode).toBe(200);
    expect((await app.inject({ url: `/documents/${docId}/content`, headers })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'HEAD', url: `/documents/${docId}/content`, headers })).statusCode,
    ).toBe(200);
    expect((await app.inject({ url: '/auth/me', headers })).statusCode).toBe(200);

    const refused = await upload(read.key);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'SCOPE_NOT_ALLOWED',
      message: 'This API key is limited to read; POST /upload needs the upload scope',
    });
    const del = await app.inject({ method: 'DELETE', url: `/documents/${docId}`, headers });
    expect(del.statusCode).toBe(403);
    const chat = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers,
      payload: { model: 'default', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(chat.statusCode).toBe(403);
    expect(chat.json().error.message).toBe(
      'This API key is limited to read; POST /v1/chat/completions needs the chat scope',
    );
    const password = await app.inject({
      method: 'POST',
      url: '/auth/password',
      headers,
      payload: { currentPassword: 'password-123', newPassword: 'new-password-9' },
    });
    expect(password.statusCode).toBe(403);
    expect(password.json().code).toBe('SCOPE_NOT_ALLOWED');
    expect((await app.db('documents').where({ id: docId }).first('status')).status).not.toBe('deleted');
  });

  it('an upload key uploads but cannot list; a key without scope does both', async () => {
    const up = await keyOf(ivy.token, { name: 'uploader', scopes: ['upload'] });
    expect((await upload(up.key)).statusCode).toBe(201);
    expect((await app.inject({ url: '/documents', headers: bearer(up.key) })).statusCode).toBe(403);
    const all = await keyOf(ivy.token, { name: 'everything' });
    expect(all.scopes).toBeNull();
    expect((await upload(all.key)).statusCode).toBe(201);
    expect((await app.inject({ url: '/documents', headers: bearer(all.key) })).statusCode).toBe(200);
  });

  it('a key is never wider than its maker: no admin scope for users, no wider key from a narrow one', async () => {
    const admin = await makeKey(ivy.token, { name: 'nope', scopes: ['admin'] });
    expect(admin.statusCode).toBe(403);
    expect(admin.json().message).toBe('Only admins can make a key with the admin scope');
    const read = await keyOf(ivy.token, { name: 'reader 2', scopes: ['read'] });
    const wider = await makeKey(read.key, { name: 'wider', scopes: ['read', 'upload'] });
    expect(wider.statusCode).toBe(403);
    expect(wider.json().message).toBe('This key is limited to read; it cannot make a key for upload');
    const inherited = await keyOf(read.key, { name: 'same' });
    expect(inherited.scopes).toEqual(['read']);
    // Admins may make admin-scoped keys, which reach user administration and nothing else.
    const adminKey = await keyOf(adminToken, { name: 'user admin', scopes: ['admin'] });
    expect((await app.inject({ url: '/users', headers: bearer(adminKey.key) })).statusCode).toBe(200);
    expect((await app.inject({ url: '/documents', headers: bearer(adminKey.key) })).statusCode).toBe(403);
    const bad = await makeKey(ivy.token, { name: 'typo', scopes: ['write'] });
    expect(bad.statusCode).toBe(400);
  });

  it('an expired key stops working at once, with a reason', async () => {
    const soon = await keyOf(ivy.token, {
      name: 'a week',
      scopes: ['read'],
      expiresAt: new Date(Date.now() + 7 * 86400_000).toISOString(),
    });
    expect(new Date(soon.expiresAt!).getTime()).toBeGreaterThan(Date.now());
    expect((await app.inject({ url: '/documents', headers: bearer(soon.key) })).statusCode).toBe(200);
    // Time passes: the expiry is now behind us.
    await app
      .db('api_keys')
      .where({ id: soon.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const late = await app.inject({ url: '/documents', headers: bearer(soon.key) });
    expect(late.statusCode).toBe(401);
    expect(late.json()).toMatchObject({ code: 'API_KEY_EXPIRED', message: 'This API key has expired' });
  });

  it('admins list every key with its owner; others may not', async () => {
    const all = await app.inject({ url: '/api-keys?all=true', headers: bearer(adminToken) });
    expect(all.statusCode).toBe(200);
    const keys = all.json().keys as { name: string; owner: string; scopes: string[] | null }[];
    expect(keys.find((k) => k.name === 'reader')).toMatchObject({ owner: 'ivy', scopes: ['read'] });
    expect(keys.find((k) => k.name === 'user admin')).toMatchObject({ owner: 'admin' });
    const mine = await app.inject({ url: '/api-keys?all=true', headers: bearer(ivy.token) });
    expect(mine.statusCode).toBe(403);
  });
});
