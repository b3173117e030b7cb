import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConflictError, NotFoundError, hashPassword } from '@rattgllm/core';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { CreateUserBody, UpdateUserBody, User } from '../../schemas/users.js';
import { isUniqueViolation, toPublicUser } from '../../plugins/app/repositories/users.js';

function conflictFor(err: unknown): never {
  if (isUniqueViolation(err, 'users_username_unique'))
    throw new ConflictError('That username is taken', 'USERNAME_TAKEN');
  if (isUniqueViolation(err, 'users_email_lower_key'))
    throw new ConflictError('Another user has that email', 'EMAIL_TAKEN');
  throw err;
}

/**
 * Guard rails an admin cannot talk past: nobody deletes or disables their own account (it would
 * lock them out mid-session), the last active admin stays, and service accounts (the `openwebui`
 * user whose key the chat uses) are not deleted while they are service accounts.
 */
function refuseSelf(me: { id: string } | null, id: string, what: string): void {
  if (me?.id === id)
    throw new ConflictError(
      `You cannot ${what} your own account; ask another admin`,
      what === 'delete' ? 'CANNOT_DELETE_SELF' : 'CANNOT_DISABLE_SELF',
    );
}

/** User administration (admins only). */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { users, audit } = fastify.repos;
  fastify.addHook('onRequest', fastify.authenticate);
  fastify.addHook('preHandler', fastify.requireRole('admin'));
  const security = [{ bearer: [] }];

  fastify.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users',
        security,
        response: { 200: Type.Object({ users: Type.Array(User) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ users: (await users.list()).map(toPublicUser) }),
  );

  fastify.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        security,
        body: CreateUserBody,
        response: { 201: User, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const row = await users
        .create({
          username: body.username,
          passwordHash: await hashPassword(body.password),
          email: body.email ?? null,
          roles: body.roles ?? ['user'],
          groups: body.groups ?? [],
        })
        .catch(conflictFor);
      await audit.record({
        actor: request.auth,
        action: 'user.created',
        targetType: 'user',
        targetId: row.id,
        ip: request.ip,
        details: { username: row.username, roles: row.roles, groups: row.groups },
      });
      return reply.code(201).send(toPublicUser(row));
    },
  );

  fastify.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change roles, groups, email, password or disabled',
        security,
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: User, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body;
      if (body.disabled === true) refuseSelf(request.auth, id, 'disable');
      const losesAdmin =
        body.disabled === true || (body.roles !== undefined && !body.roles.includes('admin'));
      if (
        losesAdmin &&
        (await users.findById(id))?.roles.includes('admin') &&
        (await users.countOtherActiveAdmins(id)) === 0
      )
        throw new ConflictError('This is the last active admin; make someone else admin first', 'LAST_ADMIN');
      const row = await users
        .update(id, {
          ...(body.email !== undefined ? { email: body.email } : {}),
          ...(body.roles ? { roles: body.roles } : {}),
          ...(body.groups ? { groups: body.groups } : {}),
          ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
          ...(body.password ? { passwordHash: await hashPassword(body.password) } : {}),
        })
        .catch(conflictFor);
      if (!row) throw new NotFoundError('No such user', 'USER_NOT_FOUND');
      await audit.record({
        actor: request.auth,
        action: 'user.updated',
        targetType: 'user',
        targetId: id,
        ip: request.ip,
        details: { fields: Object.keys(body) },
      });
      return toPublicUser(row);
    },
  );

  fastify.delete(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a user (their API keys go with them)',
        description:
          'Refused (409) for your own account (`CANNOT_DELETE_SELF`), the last active admin (`LAST_ADMIN`) ' +
          'and service accounts such as `openwebui` (`SERVICE_ACCOUNT`).',
        security,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      refuseSelf(request.auth, id, 'delete');
      const target = await users.findById(id);
      if (!target) throw new NotFoundError('No such user', 'USER_NOT_FOUND');
      if (target.roles.includes('service'))
        throw new ConflictError(
          `${target.username} is a service account: services (such as the chat) sign in with its keys. ` +
            'Take away its service role first if you really mean to delete it',
          'SERVICE_ACCOUNT',
        );
      if (target.roles.includes('admin') && (await users.countOtherActiveAdmins(id)) === 0)
        throw new ConflictError('This is the last active admin; make someone else admin first', 'LAST_ADMIN');
      await users.delete(id);
      await audit.record({
        actor: request.auth,
        action: 'user.deleted',
        targetType: 'user',
        targetId: id,
        ip: request.ip,
        details: { username: target.username },
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
