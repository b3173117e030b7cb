import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * app.ts registers the gateway's plugins and routes from an explicit list (see its comment for
 * why not @fastify/autoload). This keeps that list in step with the folders: a plugin or route
 * file nobody registers, or a plugin without a name, fails here instead of silently not loading.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function filesUnder(dir: string): string[] {
  return readdirSync(join(SRC, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(SRC, join(e.parentPath, e.name)));
}

const hasDefaultExport = (file: string) => /^export default /m.test(readFileSync(join(SRC, file), 'utf8'));

/** Local modules a file imports (static or dynamic), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
    relative(SRC, resolve(join(SRC, dirname(file)), `${m[1]}.ts`)),
  );
}

/** What app.ts registers, and what those route plugins register in turn (v1 → chat). */
function registered(): Set<string> {
  const seen = new Set<string>();
  const queue = importsOf('app.ts');
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f) || !/^(plugins|routes)\//.test(f) || !hasDefaultExport(f)) continue;
    seen.add(f);
    if (f.startsWith('routes/')) queue.push(...importsOf(f));
  }
  return seen;
}

const pluginFiles = filesUnder('plugins').filter(hasDefaultExport);
const routeFiles = filesUnder('routes').filter(hasDefaultExport);

describe('app.ts and the plugin folders', () => {
  it('finds the plugin and route files (the scan can see them)', () => {
    expect(pluginFiles).toEqual(expect.arrayContaining(['plugins/app/rag.ts', 'plugins/external/jwt.ts']));
    expect(routeFiles).toEqual(expect.arrayContaining(['routes/v1/index.ts', 'routes/v1/chat.ts']));
  });

  it('every plugin and route file is registered', () => {
    const reg = registered();
    expect([...pluginFiles, ...routeFiles].filter((f) => !reg.has(f))).toEqual([]);
  });

  it('every plugin is named (fastify-plugin meta), so dependencies can name it', async () => {
    const unnamed: string[] = [];
    for (const f of pluginFiles) {
      const mod = (await import(join(SRC, f))) as { default: Record<symbol, { name?: string } | undefined> };
      if (!mod.default[Symbol.for('plugin-meta')]?.name) unnamed.push(f);
    }
    expect(unnamed).toEqual([]);
  });
});
