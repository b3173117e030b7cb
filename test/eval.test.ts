/**
 * Retrieval quality as CI sees it: `npm run eval`'s harness on a fixed SciFact subset with the real
 * all-MiniLM-L6-v2 (ONNX, in process), through the drop folder, the ingestor and the gateway's
 * retrieval. Fails when /search nDCG@10 drops more than 0.01 below the figure in
 * eval/baseline.json (re-record it there, with the command, when a change improves it).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, inject } from 'vitest';
import { createTestDatabase } from './support/db.js';
import { loadSciFact } from '../eval/datasets.js';
import { runEval } from '../eval/harness.js';
import { formatReport } from '../eval/report.js';

const root = resolve(import.meta.dirname, '..');
// Test support may read the environment (like OLLAMA_URL in test/standins): a checkout elsewhere
// points DATASETS_DIR / MODELS_DIR at the shared data; nothing is ever downloaded.
const datasetsDir = resolve(root, process.env.DATASETS_DIR ?? '../shared/datasets');

interface Recorded {
  queries: number;
  documents: number;
  search: { ndcg10: number };
  chat: { ndcg10: number };
}

describe('npm run eval on the CI SciFact subset', () => {
  it('keeps /search nDCG@10 within 0.01 of the recorded figure', { timeout: 600_000 }, async () => {
    const recorded = JSON.parse(await readFile(join(root, 'eval/baseline.json'), 'utf8')).ci as Recorded;
    const data = await loadSciFact(datasetsDir, { queries: recorded.queries, documents: recorded.documents });
    expect(data.queries).toHaveLength(recorded.queries);
    const database = await createTestDatabase();
    try {
      const report = await runEval(data, {
        model: 'all-MiniLM-L6-v2',
        dimension: 384,
        documentPrefix: 'none',
        queryPrefix: 'none',
        onnxThreads: 1,
        // A real Qdrant when the suite runs live; the recorded figure is the model's, not Ollama's.
        ...(process.env.QDRANT_URL ? { qdrantUrl: process.env.QDRANT_URL } : {}),
        ...(process.env.QDRANT_API_KEY ? { qdrantApiKey: process.env.QDRANT_API_KEY } : {}),
        env: {
          DATABASE_URL: database.url,
          S3_ENDPOINT: inject('s3Endpoint'),
          MINIO_ROOT_USER: inject('s3AccessKey'),
          MINIO_ROOT_PASSWORD: inject('s3SecretKey'),
          S3_BUCKET: `t-${randomBytes(6).toString('hex')}`,
          PIPELINES_DIR: join(root, 'pipelines'),
          LOG_LEVEL: 'silent',
        },
      });
      console.log(formatReport(report));
      expect(report.documents).toBe(recorded.documents);
      expect(report.modes.search!.ndcg10).toBeGreaterThanOrEqual(recorded.search.ndcg10 - 0.01);
      expect(report.modes.chat!.ndcg10).toBeGreaterThanOrEqual(recorded.chat.ndcg10 - 0.01);
      // Sanity of the pipeline itself: hybrid is not worse than either list alone by much.
      expect(report.modes.hybrid!.recall100).toBeGreaterThanOrEqual(report.modes.sparse!.recall100 - 0.05);
    } finally {
      await database.drop();
    }
  });
});
