import { beforeAll, describe, expect, it } from 'vitest';
import { startDocling, type DoclingStandin, type Service } from '../../test/standins/index.js';
import { makeDocx, makePdf } from './fixtures.js';
import { addUser, ingestEnv, uploadDocument, waitFor, type IngestEnv } from './support.js';

type Doc = {
  id: string;
  status: string;
  error: string | null;
  parser: string | null;
  warnings: string[];
  chunk_count: number;
};

describe('ingesting through docling-serve (DOCLING_URL)', () => {
  let env: IngestEnv;
  let docling: Service<DoclingStandin>;
  let owner: string;
  // Every upload needs its own bytes: the same content from the same owner is a duplicate.
  const pdf = (note: string) =>
    makePdf([
      {
        bookmark: 'Safety',
        paragraphs: ['Wear goggles in the lab at all times.', `Report every spill (${note}).`],
      },
      { bookmark: 'Waste', paragraphs: ['Solvents go into the red containers.'] },
    ]);

  const settled = (id: string) =>
    waitFor(`settled ${id}`, async () => {
      const d = await env.db<Doc>('documents').where({ id }).first();
      return d && (d.status === 'indexed' || d.status === 'failed') ? d : undefined;
    });

  beforeAll(async () => {
    docling = await startDocling();
    env = await ingestEnv({ DOCLING_URL: docling.url });
    owner = await addUser(env.db, 'dora');
    return () => docling.close();
  });

  const upload = async (
    ingestor: Awaited<ReturnType<IngestEnv['start']>>,
    name: string,
    content?: Buffer,
    mime = 'application/pdf',
  ): Promise<string> =>
    uploadDocument(ingestor, { ownerId: owner, filename: name, content: content ?? (await pdf(name)), mime });

  it('uses docling-serve for PDF and DOCX and records it; PDF pages survive', async () => {
    const ingestor = await env.start({ watch: false });
    try {
      const id = await upload(ingestor, 'lab.pdf');
      const d = await settled(id);
      expect(d).toMatchObject({ status: 'indexed', parser: 'docling', warnings: [] });
      const pages = (await env.db('chunks').where({ document_id: id }).orderBy('index')).map(
        (c: { page: number }) => c.page,
      );
      expect(pages[0]).toBe(1);
      expect(Math.max(...pages)).toBe(2);
      const docx = await upload(
        ingestor,
        'memo.docx',
        await makeDocx(),
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      );
      expect(await settled(docx)).toMatchObject({ status: 'indexed', parser: 'docling' });
      if (docling.standin) expect(docling.standin.counters.sync).toBeGreaterThanOrEqual(2);
    } finally {
      await ingestor.stop();
    }
  });

  it.skipIf(!!process.env.DOCLING_URL)('large files go through the async task API', async () => {
    const ingestor = await env.start({
      watch: false,
      docling: { asyncThresholdBytes: 1, pollIntervalMs: 50 },
    });
    try {
      const before = docling.standin!.counters.async;
      const id = await upload(ingestor, 'lab-async.pdf');
      expect(await settled(id)).toMatchObject({ status: 'indexed', parser: 'docling' });
      expect(docling.standin!.counters.async).toBe(before + 1);
    } finally {
      await ingestor.stop();
    }
  });

  const faults: [string, (s: DoclingStandin) => unknown, RegExp][] = [
    [
      'down',
      (s: DoclingStandin) => s.setDown(true),
      /^docling-serve at http:\/\/127\.0\.0\.1:\d+ was unreachable \(ECONNREFUSED\)/,
    ],
    [
      'answering 500',
      (s: DoclingStandin) => s.failWith(500, 'CUDA out of memory'),
      /answered HTTP 500: CUDA out of memory/,
    ],
    [
      'unable to convert the file',
      (s: DoclingStandin) => (s.rejectConversions = true),
      /could not convert fallback-\w+\.pdf \(failure: Input document is not valid\)/,
    ],
  ];
  it.skipIf(!!process.env.DOCLING_URL).each(faults)(
    'docling-serve %s: the built-in parser takes over and the document says so',
    async (_name, fault, reason) => {
      const ingestor = await env.start({ watch: false });
      try {
        await fault(docling.standin!);
        const id = await upload(ingestor, `fallback-${Math.random().toString(36).slice(2)}.pdf`);
        const d = await settled(id);
        expect(d.status).toBe('indexed');
        expect(d.parser).toMatch(/^pdf:/);
        expect(d.warnings[0]).toMatch(reason);
        expect(d.warnings[0]).toMatch(/parsed with the built-in PDF parser instead$/);
      } finally {
        await docling.standin!.setDown(false);
        docling.standin!.resetFaults();
        docling.standin!.rejectConversions = false;
        await ingestor.stop();
      }
    },
  );
});
