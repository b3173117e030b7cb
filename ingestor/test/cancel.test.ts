import { describe, expect, it } from 'vitest';
import { cancelIndexing, type DocumentRow } from '@rattgllm/core';
import { addUser, ingestEnv, LONG_TEXT, uploadDocument, waitFor } from './support.js';

// The shortest heartbeat the config allows: a cancel reaches a running job within half of it.
const env = await ingestEnv({ JOB_HEARTBEAT_SECONDS: '10' });

describe('cancelling a running document', () => {
  // Needs the Ollama stand-in's slow batches to catch the document mid-run; a real Ollama may
  // finish it before the cancel lands.
  it.skipIf(!!process.env.OLLAMA_URL)(
    'stops the run where it is: no more embedding, nothing indexed, the row stays cancelled',
    async () => {
      const standin = env.ollama.standin!;
      standin.batchCostMs = 400;
      const ingestor = await env.start({ watch: false });
      const owner = await addUser(env.db, 'cancel-owner');
      const id = await uploadDocument(ingestor, {
        ownerId: owner,
        filename: 'long.txt',
        content: LONG_TEXT('cancellation', 120),
      });
      const doc = () => env.db<DocumentRow>('documents').where({ id }).first();
      await waitFor('processing', async () => (await doc())?.status === 'processing');
      expect((await doc())?.processing_started_at).toBeInstanceOf(Date);
      // What POST /documents/:id/cancel does (core's lifecycle): the row and its jobs together.
      const cancelled = await cancelIndexing(env.db, ingestor.deps.boss, id, 'Cancelled by test');
      expect(cancelled?.status).toBe('cancelled');
      const t0 = Date.now();
      // The worker's slot frees up once the handler returns: the signal was honoured.
      await waitFor('the run to stop', async () => ingestor.worker.inHand === 0, 12_000);
      const stoppedAfterMs = Date.now() - t0;
      // A batch already on the (simulated) device is still counted when it ends there; after
      // that, nothing new is sent.
      await new Promise((r) => setTimeout(r, 2 * standin.batchCostMs));
      const callsAtStop = standin.counters.embedCalls;
      await new Promise((r) => setTimeout(r, 1500));
      expect(standin.counters.embedCalls).toBe(callsAtStop);
      const row = await doc();
      expect(row).toMatchObject({ status: 'cancelled', chunk_count: 0 });
      expect(await env.db('chunks').where({ document_id: id }).count({ n: '*' })).toEqual([{ n: 0 }]);
      expect(await ingestor.deps.index.countDocumentPoints(id)).toBe(0);
      // Within the heartbeat's refresh (half of 10 s) plus one batch.
      expect(stoppedAfterMs).toBeLessThan(8000);
      standin.batchCostMs = 0;
      await ingestor.stop();
    },
    40_000,
  );
});
