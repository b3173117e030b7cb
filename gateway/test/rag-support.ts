/**
 * Shared set-up for the search, /v1 and Open WebUI suites: the real gateway on its own database,
 * with the Qdrant and Ollama stand-ins (or live services with QDRANT_URL / OLLAMA_URL), and a way
 * to put indexed documents in place the way the ingestor does (documents row + points).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  createVectorIndex,
  documentPrincipals,
  encodeDocument,
  parseAccess,
  type VectorIndex,
} from '@rattgllm/core';
import type {} from '../src/plugins/app/rag.js';
import type {} from '../src/plugins/app/pipelines.js';
import type {} from '../src/plugins/app/openwebui.js';
import { ADMIN, login, startGateway } from '../../test/support/gateway.js';
import {
  lexicalEmbedding,
  startOllama,
  startQdrant,
  uniqueCollectionName,
} from '../../test/standins/index.js';
import type { OllamaStandin, QdrantStandin, Service } from '../../test/standins/index.js';

export const DIM = 64;
export const OWUI_KEY = 'owui-service-secret-0123456789abcdef';
export const OWUI_JWT_SECRET = 'owui-user-jwt-secret-0123456789abcdef';

export interface RagEnv {
  app: FastifyInstance;
  adminToken: string;
  qdrant: Service<QdrantStandin>;
  ollama: Service<OllamaStandin>;
  index: VectorIndex;
  addDocument(doc: NewDoc): Promise<string>;
}

export interface NewDoc {
  ownerId: string | null;
  access: string;
  filename: string;
  chunks: string[];
  tags?: string[];
  status?: 'pending' | 'processing' | 'indexed' | 'failed' | 'deleted';
  /** Write these principals to Qdrant instead of the ones the access implies (a stale payload). */
  stalePrincipals?: string[];
  pages?: (number | null)[];
  /** Each chunk's heading (default "Part <n>": every chunk a section of its own). */
  headings?: (string | null)[];
  /** [offset, page] breaks of each chunk (multi-page chunks). */
  pageBreaks?: ([number, number][] | undefined)[];
  /** The indexed version (default 1). */
  version?: number;
  /** Index only these chunk indexes (a gap: neighbours gone). */
  only?: number[];
}

export async function startRag(overrides: Record<string, string> = {}): Promise<RagEnv> {
  const qdrant = await startQdrant();
  const ollama = await startOllama({ dimension: DIM });
  const collection = uniqueCollectionName('gw');
  const env = {
    ...qdrant.env,
    ...ollama.env,
    QDRANT_COLLECTION: collection,
    EMBED_DIM: String(DIM),
    OPENWEBUI_API_KEY: OWUI_KEY,
    OPENWEBUI_USER_JWT_SECRET: OWUI_JWT_SECRET,
    ...overrides,
  };
  const app = await startGateway(env);
  const index = createVectorIndex({
    QDRANT_URL: qdrant.url,
    QDRANT_API_KEY: qdrant.env.QDRANT_API_KEY,
    QDRANT_COLLECTION: collection,
    EMBED_DIM: DIM,
  });
  await index.ensureCollection();
  afterAll(async () => {
    await ollama.close();
    await qdrant.close();
  });
  const adminToken = await login(app, ADMIN.username, ADMIN.password);

  async function addDocument(doc: NewDoc): Promise<string> {
    const id = randomUUID();
    const access = parseAccess(doc.access);
    if (!access) throw new Error(`bad access ${doc.access}`);
    await app.db('documents').insert({
      id,
      owner_id: doc.ownerId,
      filename: doc.filename,
      mime: 'text/plain; charset=utf-8',
      size: 100,
      sha256: randomBytes(32).toString('hex'),
      storage_key: `documents/${id}`,
      source: doc.ownerId ? 'upload' : 'drop',
      source_path: doc.ownerId ? null : `/drop/${id}.txt`,
      access,
      tags: doc.tags ?? [],
      status: doc.status ?? 'indexed',
      chunk_count: doc.chunks.length,
    });
    const chunks = doc.chunks.map((text, i) => {
      const breaks = doc.pageBreaks?.[i];
      const last = breaks?.at(-1)?.[1];
      return {
        index: i,
        text,
        page: doc.pages?.[i] ?? i + 1,
        ...(breaks && last !== undefined ? { pageBreaks: breaks, pageEnd: last } : {}),
        heading: doc.headings ? doc.headings[i]! : `Part ${i + 1}`,
        dense: lexicalEmbedding(text, DIM),
        sparse: encodeDocument(text),
      };
    });
    await index.upsertChunks(
      id,
      doc.version ?? 1,
      doc.only ? chunks.filter((c) => doc.only!.includes(c.index)) : chunks,
      {
        filename: doc.filename,
        principals: doc.stalePrincipals ?? documentPrincipals(doc.ownerId, access),
        ...(doc.tags ? { tags: doc.tags } : {}),
      },
    );
    return id;
  }

  return { app, adminToken, qdrant, ollama, index, addDocument };
}

/** Reads an SSE body into its `data:` payloads (JSON-parsed, `[DONE]` kept as a string). */
export function parseSse(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n'),
    )
    .filter(Boolean)
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}
