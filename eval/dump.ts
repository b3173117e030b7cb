/**
 * `npm run eval -- --dump FILE`: the ingested index and the query vectors as JSON lines, for
 * ranking experiments offline (a fusion or scoring idea tried in seconds over the same vectors
 * before it is wired into core and measured through the gateway). One line per point
 * ({point: id, doc, chunk, heading, text, dense, sparse}), then one per query ({query, split, dense, relevant, answers}).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { EvalQuery } from './datasets.js';

export async function dumpIndex(
  file: string,
  qdrantUrl: string,
  collection: string,
  sets: Record<string, EvalQuery[]>,
  embedQuery: (text: string) => Promise<number[]>,
): Promise<void> {
  const out = createWriteStream(file);
  const write = async (line: unknown) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  let offset: unknown = null;
  do {
    const res = await fetch(`${qdrantUrl}/collections/${collection}/points/scroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        limit: 500,
        offset,
        with_payload: ['filename', 'chunk_index', 'heading', 'text'],
        with_vector: true,
      }),
    });
    const body = (await res.json()) as {
      result: {
        points: { id: string; payload: Record<string, unknown>; vector: Record<string, unknown> }[];
        next_page_offset: unknown;
      };
    };
    for (const p of body.result.points) {
      await write({
        point: p.id,
        doc: String(p.payload.filename).replace(/\.[^.]+$/, ''),
        chunk: p.payload.chunk_index,
        heading: p.payload.heading,
        text: p.payload.text,
        dense: p.vector.dense,
        sparse: p.vector.sparse,
      });
    }
    offset = body.result.next_page_offset;
  } while (offset !== null && offset !== undefined);
  for (const [split, queries] of Object.entries(sets)) {
    for (const q of queries) {
      await write({
        query: q.text,
        split,
        dense: await embedQuery(q.text),
        relevant: q.relevant,
        answers: q.answers,
      });
    }
  }
  out.end();
  await once(out, 'finish');
}
