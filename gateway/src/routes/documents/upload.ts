import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Multipart } from '@fastify/multipart';
import {
  AppError,
  BadRequestError,
  SNIFF_BYTES,
  objectKey,
  peekStream,
  sanitizeFilename,
  sniffType,
  type StoredObject,
} from '@rattgllm/core';
import { errorResponses } from '../../schemas/common.js';
import { Document } from '../../schemas/documents.js';
import { parseAccessField, parseTags } from './access.js';
import { toPublicDocument, type DocumentRow } from '../../plugins/app/repositories/documents.js';
import { isUniqueViolation } from '../../plugins/app/repositories/users.js';
import multipartPlugin from '../../plugins/external/multipart.js';

interface StoredUpload extends StoredObject {
  id: string;
  filename: string;
  mime: string;
}

/** `POST /upload`: files streamed to object storage, then one row + one ingest job each. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  // multipart only here: its hooks (a close listener per request, a clean-up after it) would
  // otherwise run on every request, the chat stream's included.
  await fastify.register(multipartPlugin);
  const { documents, audit } = fastify.repos;
  const limitBytes = fastify.config.MAX_UPLOAD_MB * 1024 * 1024;

  async function removeAll(stored: StoredUpload[]): Promise<void> {
    await Promise.all(stored.map((s) => fastify.storage.remove(s.key).catch(() => {})));
  }

  async function storeFile(part: Multipart & { type: 'file' }): Promise<StoredUpload> {
    const filename = sanitizeFilename(part.filename ?? '');
    const { head, stream, complete } = await peekStream(part.file, SNIFF_BYTES);
    if (head.length === 0) throw new BadRequestError(`"${filename}" is empty`, 'EMPTY_FILE');
    if (complete && part.file.truncated)
      throw new AppError(413, 'FILE_TOO_LARGE', `"${filename}" is too large`);
    let mime: string;
    try {
      mime = await sniffType(filename, head, complete);
    } catch (err) {
      stream.destroy();
      throw err;
    }
    const id = randomUUID();
    const stored = await fastify.storage.put(objectKey(id, filename), stream, {
      contentType: mime,
      limit: limitBytes,
    });
    return { ...stored, id, filename, mime };
  }

  fastify.post(
    '/upload',
    {
      onRequest: fastify.authenticate,
      schema: {
        tags: ['documents'],
        summary: 'Upload one or more files (multipart/form-data: file…, access, tags)',
        description:
          'Fields: `file` (one or more), `access` (`private` | `org` | `group:<name>`, default private), ' +
          '`tags` (comma-separated, or the field repeated). Same content from the same owner returns the ' +
          'existing document with `duplicate: true`.',
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        response: {
          200: Type.Object({ documents: Type.Array(Document) }),
          201: Type.Object({ documents: Type.Array(Document) }),
          ...errorResponses(400, 401, 403, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const me = request.auth!;
      if (!request.isMultipart())
        throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the files as multipart/form-data');

      const stored: StoredUpload[] = [];
      const fields: Record<string, string[]> = {};
      try {
        for await (const part of request.parts()) {
          if (part.type === 'field') {
            (fields[part.fieldname] ??= []).push(String(part.value));
            continue;
          }
          if (part.fieldname !== 'file') {
            part.file.resume();
            throw new BadRequestError(
              `Unexpected file field "${part.fieldname}"; send files as "file"`,
              'BAD_FIELD',
            );
          }
          stored.push(await storeFile(part));
        }
        if (stored.length === 0)
          throw new BadRequestError('No file in the request (field "file")', 'NO_FILE');
        const access = parseAccessField(fields.access?.[0], me);
        const tags = parseTags(fields.tags ?? []);

        const results: (ReturnType<typeof toPublicDocument> & { duplicate: boolean })[] = [];
        let created = 0;
        const boss = await fastify.queue();
        for (const file of stored) {
          const existing = await documents.findUploadDuplicate(me.id, file.sha256);
          if (existing) {
            await fastify.storage.remove(file.key);
            results.push({ ...toPublicDocument(existing), duplicate: true });
            continue;
          }
          let row: DocumentRow;
          try {
            // The row and its ingest job are written together or not at all.
            row = await documents.create(boss, {
              id: file.id,
              owner_id: me.id,
              filename: file.filename,
              mime: file.mime,
              size: file.size,
              sha256: file.sha256,
              storage_key: file.key,
              source: 'upload',
              access,
              tags,
            });
          } catch (err) {
            await fastify.storage.remove(file.key).catch(() => {});
            // Lost a race with an identical upload: that one is the document.
            const twin = isUniqueViolation(err)
              ? await documents.findUploadDuplicate(me.id, file.sha256)
              : undefined;
            if (!twin) throw err;
            results.push({ ...toPublicDocument(twin), duplicate: true });
            continue;
          }
          created++;
          results.push({ ...toPublicDocument(row), duplicate: false });
          await audit.record({
            actor: me,
            action: 'document.created',
            targetType: 'document',
            targetId: row.id,
            ip: request.ip,
            details: { filename: row.filename, size: row.size, access },
          });
        }
        return reply.code(created > 0 ? 201 : 200).send({ documents: results });
      } catch (err) {
        // Nothing half-made survives: objects of this request without a row are removed.
        const orphaned = [];
        for (const s of stored) if (!(await documents.exists(s.id))) orphaned.push(s);
        await removeAll(orphaned);
        throw err;
      }
    },
  );
};

export default routes;
