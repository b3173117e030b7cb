import fp from 'fastify-plugin';
import multipart from '@fastify/multipart';

/**
 * multipart/form-data for uploads, streamed (never buffered): files are read part by part.
 * The per-file limit is one byte over MAX_UPLOAD_MB so the upload route sees the overflow and
 * answers 413 itself.
 */
export default fp(
  async (fastify) => {
    await fastify.register(multipart, {
      limits: {
        fileSize: fastify.config.MAX_UPLOAD_MB * 1024 * 1024 + 1,
        files: 20,
        fields: 20,
        fieldSize: 16 * 1024,
        parts: 60,
      },
    });
  },
  { name: 'multipart', dependencies: ['config'] },
);
