import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SUPPORTED_TYPES } from '@rattgllm/core';

const PublicConfig = Type.Object(
  {
    upload: Type.Object({
      maxBytes: Type.Integer({ description: 'Largest file `POST /upload` accepts, in bytes' }),
      maxMb: Type.Integer({ description: 'The same limit in MiB (MAX_UPLOAD_MB)' }),
      extensions: Type.Array(Type.String(), { description: 'File name extensions that are indexed' }),
    }),
  },
  { $id: 'PublicConfig' },
);

/**
 * `GET /config`: the limits a client should know before it sends anything, so a too-large file
 * is refused in the browser instead of after megabytes went over the wire. Public: it tells
 * nothing a failed upload would not.
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const maxMb = fastify.config.MAX_UPLOAD_MB;
  const body = {
    upload: { maxBytes: maxMb * 1024 * 1024, maxMb, extensions: Object.keys(SUPPORTED_TYPES) },
  };
  fastify.get(
    '/config',
    {
      schema: {
        tags: ['health'],
        summary: 'Public limits for clients (largest upload, indexed file types)',
        response: {
          200: {
            ...PublicConfig,
            description: 'The limits',
            examples: [{ upload: { maxBytes: 104857600, maxMb: 100, extensions: ['pdf', 'docx', 'txt'] } }],
          },
        },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(body),
  );
};

export default routes;
