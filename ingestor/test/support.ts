import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import {
  createDb,
  hashPassword,
  objectKey,
  sendInTransaction,
  JOBS,
  type Config,
  type Knex,
} from '@rattgllm/core';
import { createTestDatabase } from '../../test/support/db.js';
import { testConfig } from '../../test/support/config.js';
import {
  startOllama,
  startQdrant,
  uniqueCollectionName,
  type OllamaStandin,
  type QdrantStandin,
  type Service,
} from '../../test/standins/index.js';
import { startIngestor, type Ingestor } from '../src/main.js';

export interface IngestEnv {
  config: Config;
  db: Knex;
  dropDir: string;
  qdrant: Service<QdrantStandin>;
  ollama: Service<OllamaStandin>;
  start(options?: Parameters<typeof startIngestor>[1]): Promise<Ingestor>;
}

/**
 * A database, bucket, collection and drop folder of this file's own, with the Qdrant and Ollama
 * stand-ins (or the real services when QDRANT_URL / OLLAMA_URL are set).
 */
export async function ingestEnv(overrides: Record<string, string> = {}): Promise<IngestEnv> {
  const database = await createTestDatabase();
  const qdrant = await startQdrant();
  const ollama = await startOllama();
  const dropDir = await mkdtemp(join(tmpdir(), 'rattg-drop-'));
  const config = testConfig({
    DATABASE_URL: database.url,
    ...qdrant.env,
    ...ollama.env,
    QDRANT_COLLECTION: uniqueCollectionName('ingest'),
    // Reconcile removes objects without a document: each file needs a bucket of its own.
    S3_BUCKET: `t-${randomBytes(6).toString('hex')}`,
    DROP_DIR: dropDir,
    EMBED_BATCH_SIZE: '8',
    CHUNK_TOKENS: '120',
    ...overrides,
  });
  const db = createDb(config);
  const running: Ingestor[] = [];
  afterAll(async () => {
    for (const i of running) await i.stop().catch(() => {});
    await db.destroy();
    await qdrant.close();
    await ollama.close();
    await database.drop();
    await rm(dropDir, { recursive: true, force: true });
  });
  return {
    config,
    db,
    dropDir,
    qdrant,
    ollama,
    async start(options = {}) {
      const ingestor = await startIngestor(config, {
        renameGraceMs: 300,
        stabilityMs: 100,
        pollingIntervalSeconds: 0.5,
        ...options,
      });
      running.push(ingestor);
      return ingestor;
    },
  };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function addUser(db: Knex, username: string, groups: string[] = []): Promise<string> {
  const [row] = await db('users')
    .insert({ username, password_hash: await hashPassword('pw-123456'), roles: ['user'], groups })
    .returning('id');
  return row.id as string;
}

export async function writeDropFile(root: string, rel: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
}

/** What the gateway's upload does: object, row and ingest job. */
export async function uploadDocument(
  ingestor: Ingestor,
  input: { ownerId: string; filename: string; content: string | Buffer; access?: string; mime?: string },
): Promise<string> {
  const { deps } = ingestor;
  const id = (await deps.db.raw('select gen_random_uuid() as id')).rows[0].id as string;
  const key = objectKey(id, input.filename);
  const { Readable } = await import('node:stream');
  const stored = await deps.storage.put(key, Readable.from([Buffer.from(input.content)]), {
    contentType: input.mime ?? 'text/plain; charset=utf-8',
  });
  await deps.db.transaction(async (trx) => {
    await trx('documents').insert({
      id,
      owner_id: input.ownerId,
      filename: input.filename,
      mime: input.mime ?? 'text/plain; charset=utf-8',
      size: stored.size,
      sha256: stored.sha256,
      storage_key: key,
      source: 'upload',
      access: input.access ?? 'private',
    });
    await sendInTransaction(deps.boss, trx, JOBS.ingest, { documentId: id });
  });
  return id;
}

export const LONG_TEXT = (topic: string, paragraphs = 12) =>
  Array.from(
    { length: paragraphs },
    (_, i) =>
      `Paragraph ${i + 1} about ${topic}. ` +
      `The ${topic} team reviewed item ${i} in detail, noting budgets, timelines and the people involved in ${topic}. `.repeat(
        4,
      ),
  ).join('\n\n');
