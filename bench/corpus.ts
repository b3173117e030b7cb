/**
 * Benchmark corpus: real English prose, the README.md files of the installed npm packages.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** README.md files of node_modules packages (≥ 2000 chars), sorted by name, up to `limit` bytes. */
export async function readmes(limit: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let size = 0;
  const dirs = (await readdir('node_modules', { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const d of dirs) {
    const candidates = d.startsWith('@')
      ? (await readdir(join('node_modules', d))).sort().map((n) => join(d, n))
      : [d];
    for (const c of candidates) {
      const data = await readFile(join('node_modules', c, 'README.md')).catch(() => undefined);
      if (!data || data.length < 2000) continue;
      out.push(data);
      size += data.length;
      if (size >= limit) return out;
    }
  }
  return out;
}

/**
 * Small Markdown files (title + abstract, 1–3 KB each) from the SciFact abstracts in
 * ../shared/datasets/scifact.zip (BEIR SciFact; abstracts ODC-By 1.0, see its README).
 */
export async function scifactFiles(
  count: number,
  zipPath: string,
): Promise<{ name: string; text: string }[]> {
  const { unzipSync, strFromU8 } = await import('fflate');
  const { parse } = await import('csv-parse/sync');
  const entries = unzipSync(await readFile(zipPath), { filter: (f) => f.name === 'corpus_train.csv' });
  const rows = parse(strFromU8(entries['corpus_train.csv']!), { columns: true }) as {
    doc_id: string;
    title: string;
    abstract: string;
  }[];
  const out: { name: string; text: string }[] = [];
  for (const row of rows) {
    // The abstract is a Python list of sentences: ['First …' 'Second …'] (no commas between).
    const sentences = [...row.abstract.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map(
      (m) => m[1] ?? m[2] ?? '',
    );
    const text = `# ${row.title}\n\n${sentences.join(' ')}\n`;
    const size = Buffer.byteLength(text);
    if (size < 1024 || size > 3072) continue;
    out.push({ name: `scifact-${row.doc_id}.md`, text });
    if (out.length === count) return out;
  }
  // Fewer abstracts in range than asked for: repeat them under new names.
  for (let i = 0; out.length < count; i++) out.push({ ...out[i]!, name: `r${i}-${out[i]!.name}` });
  return out;
}
