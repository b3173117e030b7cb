// Bundles the widget (Lit included) into one ES module: dist/rattg-widget.js and a copy with a
// content hash in its name, which the gateway serves with a year-long cache. Prints the sizes.
//   node build.mjs [--outdir DIR] [--minify=false]
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIdx = args.indexOf('--outdir');
const outdir = resolve(outIdx >= 0 ? args[outIdx + 1] : join(here, 'dist'));
const minify = !args.includes('--minify=false');
const pkg = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'));

const result = await build({
  entryPoints: [join(here, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify,
  legalComments: 'none',
  write: false,
  define: { __RATTG_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
const code = result.outputFiles[0].contents;
const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
const file = `rattg-widget.${hash}.js`;
const gzipBytes = gzipSync(code, { level: 9 }).length;
await mkdir(outdir, { recursive: true });
// Older hashed bundles go: the gateway serves only what the manifest names, plus this one.
for (const old of await readdir(outdir))
  if (/^rattg-widget\.[0-9a-f]+\.js$/.test(old) && old !== file) await rm(join(outdir, old));
await writeFile(join(outdir, 'rattg-widget.js'), code);
await writeFile(join(outdir, file), code);
const manifest = { file, hash, version: pkg.version, bytes: code.length, gzipBytes };
await writeFile(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(
  `widget: ${join(outdir, file)} ${(code.length / 1024).toFixed(1)} KiB, gzip ${(gzipBytes / 1024).toFixed(1)} KiB`,
);
