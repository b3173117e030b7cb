import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BadRequestError, ForbiddenError, NotFoundError, generateApiKey, isAdmin } from '@rattgllm/core';
import { errorResponses, IdParams, RoleName, ScopeName } from '../../schemas/common.js';
import { toPublicApiKey } from '../../plugins/app/repositories/apiKeys.js';

const ApiKey = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    name: Type.String(),
    prefix: Type.String(),
    roles: Type.Array(Type.String()),
    scopes: Type.Union([Type.Array(Type.String()), Type.Null()], {
      description: 'what the key may be used for; null: everything its owner may do',
    }),
    owner: Type.Optional(Type.String({ description: 'the owner’s username (in `?all=true` lists)' })),
    createdAt: Type.String(),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
    lastUsedAt: Type.Union([Type.String(), Type.Null()]),
    revokedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'ApiKey' },
);

const CreatedApiKey = Type.Intersect([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'The secret. Shown only in this response.' }) }),
]);

/** The caller's own API keys. Keys are bearer credentials for scripts, IDE plugins and Open WebUI. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { apiKeys, audit } = fastify.repos;
  fastify.addHook('onRequest', fastify.authenticate);
  const security = [{ bearer: [] }];

  fastify.post(
    '/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key (the secret is shown once)',
        security,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            roles: Type.Optional(Type.Array(RoleName, { minItems: 1, uniqueItems: true })),
            scopes: Type.Optional(Type.Array(ScopeName, { minItems: 1, uniqueItems: true })),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedApiKey, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      // A key is never stronger than the key or session that creates it; admins may grant any role
      // (that is how Open WebUI's `service` key is made).
      const roles = request.body.roles ?? me.roles;
      const tooStrong = isAdmin(me) ? [] : roles.filter((r) => !me.roles.includes(r));
      if (tooStrong.length)
        throw new ForbiddenError(
          `You cannot give a key roles you do not have: ${tooStrong.join(', ')}`,
          'ROLE_NOT_ALLOWED',
        );
      // Scopes narrow further; a narrowed key can only make keys within its own scopes.
      const scopes = request.body.scopes ?? me.scopes ?? null;
      const wider = scopes && me.scopes ? scopes.filter((s) => !me.scopes!.includes(s)) : [];
      if (wider.length || (!scopes && me.scopes))
        throw new ForbiddenError(
          `This key is limited to ${me.scopes!.join(', ')}; it cannot make a key for ${wider.join(', ') || 'everything'}`,
          'SCOPE_NOT_ALLOWED',
        );
      if (scopes?.includes('admin') && !isAdmin(me))
        throw new ForbiddenError('Only admins can make a key with the admin scope', 'SCOPE_NOT_ALLOWED');
      const expiresAt = request.body.expiresAt ? new Date(request.body.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now())
        throw new BadRequestError('expiresAt must be in the future', 'INVALID_EXPIRY');
      const generated = generateApiKey();
      const row = await apiKeys.create({
        userId: me.id,
        name: request.body.name,
        prefix: generated.prefix,
        hash: generated.hash,
        roles,
        scopes,
        expiresAt,
      });
      await audit.record({
        actor: me,
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: row.id,
        ip: request.ip,
        details: { name: row.name, roles, scopes, expiresAt },
      });
      return reply.code(201).send({ ...toPublicApiKey(row), key: generated.key });
    },
  );

  fastify.get(
    '/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary:
          'List your API keys (never their secrets); admins: `?all=true` lists everyone’s, with owners',
        security,
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Object({ keys: Type.Array(ApiKey) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const me = request.auth!;
      if (!request.query.all) return { keys: (await apiKeys.listForUser(me.id)).map(toPublicApiKey) };
      if (!isAdmin(me)) throw new ForbiddenError('Only admins can list everyone’s keys', 'FORBIDDEN');
      const rows = await apiKeys.listAll();
      return { keys: rows.map((r) => ({ ...toPublicApiKey(r), owner: r.owner_name })) };
    },
  );

  fastify.delete(
    '/api-keys/:id',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key (yours; admins: anyone’s)',
        security,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      const row = await apiKeys.findById(request.params.id);
      // Someone else's key is "not found", so ids of other people's keys cannot be probed.
      if (!row || (row.user_id !== me.id && !isAdmin(me)))
        throw new NotFoundError('No such API key', 'API_KEY_NOT_FOUND');
      if (!row.revoked_at) await apiKeys.revoke(row.id);
      await audit.record({
        actor: me,
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: row.id,
        ip: request.ip,
      });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
