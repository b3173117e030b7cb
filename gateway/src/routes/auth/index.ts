import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AppError,
  BadRequestError,
  UnauthorizedError,
  hashPassword,
  isAdmin,
  verifyPassword,
} from '@rattgllm/core';
import { errorResponses, Password } from '../../schemas/common.js';
import { tooManyAttempts } from '../../plugins/app/sign-in.js';

const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const SessionUser = Type.Object({
  id: Type.String(),
  username: Type.String(),
  roles: Type.Array(Type.String()),
  groups: Type.Array(Type.String()),
});

const LoginResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'seconds' }),
  user: SessionUser,
});

const MeResponse = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  groups: Type.Array(Type.String()),
  via: Type.String({ description: 'jwt or api_key' }),
  security: Type.Optional(
    Type.Object({
      insecureDefaults: Type.Array(Type.String(), {
        description: 'Variables still at their published demo values (admins only)',
      }),
    }),
  ),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { users, audit } = fastify.repos;
  const { signIn } = fastify;

  fastify.post(
    '/auth/login',
    {
      config: { rateLimit: signIn.perIp },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username and password; returns a bearer JWT',
        body: LoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 401, 429) },
      },
      preHandler: async (request, reply) => {
        const seconds = await signIn.limitedFor(request);
        if (seconds !== undefined) {
          reply.header('retry-after', seconds);
          throw new AppError(429, 'RATE_LIMITED', tooManyAttempts(seconds));
        }
      },
    },
    async (request) => {
      const user = await signIn.check(request, request.body, { failedAction: 'auth.login_failed' });
      if (!user) throw new UnauthorizedError('Wrong username or password', 'INVALID_CREDENTIALS');
      const token = fastify.jwt.sign({ sub: user.id, username: user.username, roles: user.roles });
      await audit.record({ actor: user, action: 'auth.login', ip: request.ip });
      return {
        access_token: token,
        token_type: 'bearer' as const,
        expires_in: fastify.config.JWT_EXPIRES_IN,
        user: { id: user.id, username: user.username, roles: user.roles, groups: user.groups },
      };
    },
  );

  fastify.get(
    '/auth/me',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Who am I',
        security: [{ bearer: [] }],
        response: { 200: MeResponse, ...errorResponses(401) },
      },
    },
    async (request) => {
      const me = request.auth!;
      return {
        id: me.id,
        username: me.username,
        email: me.email,
        roles: me.roles,
        groups: me.groups,
        via: me.via,
        ...(isAdmin(me) ? { security: { insecureDefaults: [...fastify.config.insecureDefaults] } } : {}),
      };
    },
  );

  fastify.post(
    '/auth/password',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password (needs the current one)',
        security: [{ bearer: [] }],
        body: Type.Object(
          { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Password },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      const row = await users.findById(me.id);
      if (!row || !(await verifyPassword(row.password_hash, request.body.currentPassword)))
        throw new BadRequestError('The current password is wrong', 'WRONG_PASSWORD');
      if (request.body.currentPassword === request.body.newPassword)
        throw new BadRequestError('The new password must differ from the current one', 'SAME_PASSWORD');
      await users.update(me.id, { passwordHash: await hashPassword(request.body.newPassword) });
      await audit.record({ actor: me, action: 'auth.password_changed', ip: request.ip });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
