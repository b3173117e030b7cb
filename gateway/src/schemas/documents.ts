import { Type } from 'typebox';

export const Document = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    ownerId: Type.Union([Type.String(), Type.Null()]),
    filename: Type.String(),
    mime: Type.String(),
    size: Type.Integer(),
    sha256: Type.String(),
    source: Type.String({ description: 'upload or drop' }),
    sourcePath: Type.Union([Type.String(), Type.Null()]),
    access: Type.String({ description: 'private, org or group:<name>' }),
    tags: Type.Array(Type.String()),
    status: Type.String({
      description:
        'pending, processing, waiting (a service it needs failed; retried at nextAttemptAt), indexed, failed (a person must act; see error), cancelled (a person stopped it; re-index to index it)',
    }),
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    error: Type.Union([Type.String(), Type.Null()]),
    nextAttemptAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    chunkCount: Type.Integer(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    indexedAt: Type.Union([Type.String(), Type.Null()]),
    contentUrl: Type.String(),
    stored: Type.Boolean({
      description:
        'false for a drop-folder file that was refused (unsupported type, too large, unknown owner): ' +
        'nothing is stored, so there is nothing to open or re-index',
    }),
    duplicate: Type.Optional(Type.Boolean()),
    ownerName: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: 'the owner’s username (in lists)' }),
    ),
  },
  { $id: 'Document' },
);
