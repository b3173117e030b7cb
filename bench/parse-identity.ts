/**
 * `npx tsx --conditions=development bench/parse-identity.ts [ref]` — checks that parse + chunk give
 * exactly what they gave at git `ref` (default `main`): the pipeline of `ref` is extracted with
 * `git archive` into .data/parse-identity (removed afterwards) and both run on every
 * Markdown file of node_modules over 1 KB, as .md and as .txt: the parsed sections, the chunks at
 * three chunk settings, and each chunk's token count must be equal. Also compares the Markdown
 * block tokens with stock marked. Exits 1 on any difference. For speed work on the pipeline, whose
 * output must not change (CHUNKER_VERSION would have to be bumped).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Lexer } from 'marked';
import { markdownBlocks } from '../ingestor/src/pipeline/parse/markdown.js';
import { parseDocument } from '../ingestor/src/pipeline/parse/index.js';
import { chunkSections } from '../ingestor/src/pipeline/chunk.js';
import { countTokens } from '../ingestor/src/pipeline/tokens.js';

type Pipeline = {
  parseDocument: typeof parseDocument;
  chunkSections: typeof chunkSections;
  countTokens: typeof countTokens;
};

const SETTINGS = [
  { targetTokens: 400, overlap: 0.15 },
  { targetTokens: 120, overlap: 0.3 },
  { targetTokens: 1000, overlap: 0.5 },
];

/** Inside the repository (so the old tree's imports resolve here) but not in node_modules, which tsx loads as CommonJS. */
const OLD_TREE = resolve('.data/parse-identity');

async function oldPipeline(ref: string): Promise<Pipeline> {
  const dir = OLD_TREE;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', ref, 'ingestor/src'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  const src = join(dir, 'ingestor/src/pipeline');
  return {
    ...((await import(join(src, 'parse/index.ts'))) as Pick<Pipeline, 'parseDocument'>),
    ...((await import(join(src, 'chunk.ts'))) as Pick<Pipeline, 'chunkSections'>),
    ...((await import(join(src, 'tokens.ts'))) as Pick<Pipeline, 'countTokens'>),
  };
}

const shape = (tokens: ReturnType<typeof markdownBlocks>): string =>
  JSON.stringify(
    tokens.map((t) => [t.type, t.raw, (t as { depth?: number }).depth, (t as { text?: string }).text]),
  );

async function main(): Promise<void> {
  const ref = process.argv[2] ?? 'main';
  const old = await oldPipeline(ref);
  const files = execFileSync('find', ['node_modules', '-name', '*.md', '-size', '+1k'], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .sort();
  const ctx = { signal: new AbortController().signal, log: { debug() {}, info() {}, warn() {} } };
  let chunkComparisons = 0;
  let counts = 0;
  const differences: string[] = [];
  for (const file of files) {
    const data = readFileSync(file);
    const source = data.toString('utf8').replace(/\r\n?/g, '\n');
    if (shape(markdownBlocks(source)) !== shape(new Lexer({ gfm: true }).blockTokens(source))) {
      differences.push(`${file}: Markdown blocks differ from stock marked`);
    }
    for (const format of ['md', 'txt']) {
      const doc = await parseDocument({ data, filename: `x.${format}` }, ctx);
      const before = await old.parseDocument({ data, filename: `x.${format}` }, ctx);
      if (JSON.stringify(doc) !== JSON.stringify(before)) {
        differences.push(`${file} as ${format}: parsed sections differ`);
        continue;
      }
      for (const options of SETTINGS) {
        const chunks = chunkSections(doc.sections, options);
        chunkComparisons++;
        if (JSON.stringify(chunks) !== JSON.stringify(old.chunkSections(before.sections, options))) {
          differences.push(`${file} as ${format}, ${JSON.stringify(options)}: chunks differ`);
        }
        for (const chunk of chunks) {
          counts++;
          if (countTokens(chunk.text) !== old.countTokens(chunk.text)) {
            differences.push(`${file}: token count differs for a chunk`);
          }
        }
      }
    }
  }
  console.log(
    `${files.length} files against ${ref}: ${chunkComparisons} chunk comparisons, ${counts} token counts, ` +
      `${differences.length} differences`,
  );
  for (const d of differences.slice(0, 20)) console.log(`  ${d}`);
  if (differences.length > 0) process.exitCode = 1;
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(OLD_TREE, { recursive: true, force: true }));
