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
