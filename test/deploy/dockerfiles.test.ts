/**
 * gateway/Dockerfile and ingestor/Dockerfile, linted without a Docker engine (dockerfile-ast parses
 * them as BuildKit does): multi-stage on the official Node 24 image, `npm ci` from the lockfile,
 * production dependencies only in the final stage, a non-root user, a HEALTHCHECK, and the same
 * install/build/start commands CI runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parseCompose, read, ROOT } from './support.js';

interface Stage {
  from: { image: string; tag: string; name: string | null };
  instructions: { keyword: string; text: string }[];
}

/** An instruction's arguments as written, flags included (`--from=build …`, `--interval=15s CMD …`). */
function argumentsText(lines: string[], i: Instruction): string {
  const { start, end } = i.getRange();
  const text = lines
    .slice(start.line, end.line + 1)
    .map((l, n) => (n === end.line - start.line ? l.slice(0, end.character) : l))
    .join('\n');
  return text
    .slice(start.character)
    .replace(/^\S+\s*/, '')
    .replace(/\\\n/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function stages(path: string): Stage[] {
  const content = read(path);
  const lines = content.split('\n');
  const dockerfile = DockerfileParser.parse(content);
  const result: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = dockerfile
        .getFROMs()
        .find((f) => f.getRange().start.line === instruction.getRange().start.line)!;
      result.push({
        from: { image: from.getImageName() ?? '', tag: from.getImageTag() ?? '', name: from.getBuildStage() },
        instructions: [],
      });
    } else {
      if (result.length === 0) throw new Error(`${path}: ${instruction.getKeyword()} before the first FROM`);
      result
        .at(-1)!
        .instructions.push({ keyword: instruction.getKeyword(), text: argumentsText(lines, instruction) });
    }
  }
  return result;
}

const args = (i: { text: string }) => i.text;
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map(args);
const ofKind = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword);
/** The exec-form array of CMD/HEALTHCHECK CMD, e.g. ["node","gateway/dist/server.js"]. */
const execForm = (text: string) => JSON.parse(text.slice(text.indexOf('['))) as string[];

/** Commands .ci/run executes (what CI installs and builds with). */
const ciScript = read('.ci/run');

const IMAGES = [
  {
    dockerfile: 'gateway/Dockerfile',
    workspace: 'gateway',
    entry: 'gateway/dist/server.js',
    source: 'gateway/src/server.ts',
  },
  {
    dockerfile: 'ingestor/Dockerfile',
    workspace: 'ingestor',
    entry: 'ingestor/dist/main.js',
    source: 'ingestor/src/main.ts',
  },
];

describe.each(IMAGES)('$dockerfile', ({ dockerfile, workspace, entry, source }) => {
  const all = stages(dockerfile);
  const build = all[0]!;
  const final = all.at(-1)!;

  it('is multi-stage on the official Node 24 image', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) {
      expect(stage.from.image).toBe('node');
      expect(stage.from.tag).toMatch(/^24(\.\d+){0,2}-[a-z]+(-slim)?$/);
    }
    expect(build.from.name).toBe('build');
    expect(final.from.name).toBe('runtime');
  });

  it('installs with `npm ci` from the lockfile and builds with the commands CI runs', () => {
    const buildRuns = runs(build).join(' && ');
    // The same install and build invocations as .ci/run.
    const ciInstall = /^npm ci .*$/m.exec(ciScript)![0];
    expect(buildRuns).toContain(ciInstall);
    expect(ciScript).toMatch(/^npm run build$/m);
    expect(buildRuns).toMatch(/(^| )npm run build( |$)/);
    const copies = ofKind(build, 'COPY').map(args);
    expect(copies).toContain('package.json package-lock.json ./');
    // Every workspace manifest is there before `npm ci`, so the workspace tree matches the lockfile.
    const rootManifest = JSON.parse(read('package.json')) as { workspaces: string[] };
    for (const ws of rootManifest.workspaces) expect(copies, ws).toContain(`${ws}/package.json ${ws}/`);
  });

  it('keeps only production dependencies and compiled output in the final stage', () => {
    const finalRuns = runs(final);
    expect(finalRuns.some((r) => /npm ci --omit=dev\b/.test(r))).toBe(true);
    expect(finalRuns.join(' ')).not.toMatch(/npm (i|install|ci)(?![^&]*--omit=dev)/);
    expect(finalRuns.join(' ')).not.toMatch(/npm run build|tsc/);
    const copies = ofKind(final, 'COPY').map(args);
    expect(copies).toContain('--from=build /app/core/dist core/dist');
    expect(copies).toContain(`--from=build /app/${workspace}/dist ${workspace}/dist`);
    // No source tree or dev tooling copied wholesale into the runtime image.
    expect(copies.some((c) => /^\.\s/.test(c) || c.startsWith('--from=build /app/node_modules'))).toBe(false);
    expect(ofKind(final, 'ENV').map(args)).toContain('NODE_ENV=production');
  });

  it('runs as the unprivileged node user with a HEALTHCHECK', () => {
    const users = ofKind(final, 'USER').map(args);
    expect(users).toEqual(['node']);
    const hc = ofKind(final, 'HEALTHCHECK').map(args);
    expect(hc).toHaveLength(1);
    expect(hc[0]).toMatch(/--interval=\d+s/);
    expect(execForm(hc[0]!)[0]).toBe('node');
  });

  it('starts the compiled entry point that `npm run build` produces', () => {
    const cmd = ofKind(final, 'CMD').map(args);
    expect(cmd).toHaveLength(1);
    expect(execForm(cmd[0]!)).toEqual(['node', entry]);
    // tsc -b compiles <ws>/src to <ws>/dist (rootDir/outDir), so the entry is src's twin.
    const tsconfig = read(`${workspace}/tsconfig.json`);
    expect(tsconfig).toMatch(/"rootDir":\s*"src"/);
    expect(tsconfig).toMatch(/"outDir":\s*"dist"/);
  });

  it.skipIf(!existsSync(join(ROOT, source)))(`has ${source}, whose build output the image starts`, () => {
    expect(existsSync(join(ROOT, source))).toBe(true);
  });
});

describe('gateway image contents', () => {
  const final = stages('gateway/Dockerfile').at(-1)!;
  const copies = ofKind(final, 'COPY').map(args);

  it('contains the built widget, the pipelines folder and the migrations', () => {
    expect(copies).toContain('--from=build /app/widget/dist widget/dist');
    expect(copies).toContain('pipelines pipelines');
    // core/dist/bin/migrate.js resolves ../../../migrations, i.e. /app/migrations.
    expect(copies).toContain('migrations migrations');
    expect(ofKind(final, 'WORKDIR').map(args)).toEqual(['/app']);
  });

  it('the compose file runs migrations from this image with the compiled migrate script', () => {
    const compose = parseCompose(read('docker-compose.yml'));
    expect(compose.services.migrate!.command).toEqual(['node', 'core/dist/bin/migrate.js']);
    expect(read('core/src/bin/migrate.ts')).toBeTruthy();
  });
});

describe('ingestor image contents', () => {
  it('ships the healthcheck script the compose file calls', () => {
    const final = stages('ingestor/Dockerfile').at(-1)!;
    expect(ofKind(final, 'COPY').map(args)).toContain(
      'deploy/ingestor-healthcheck.mjs deploy/ingestor-healthcheck.mjs',
    );
    const compose = parseCompose(read('docker-compose.yml'));
    expect(compose.services.ingestor!.healthcheck!.test).toEqual([
      'CMD',
      'node',
      '/app/deploy/ingestor-healthcheck.mjs',
    ]);
    expect(existsSync(join(ROOT, 'deploy/ingestor-healthcheck.mjs'))).toBe(true);
  });
});

describe('.dockerignore', () => {
  const ignore = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim());

  it('keeps host installs, build output and secrets out of the build context', () => {
    for (const entry of ['node_modules', '**/node_modules', '**/dist', '.env', '.git', 'drop', '.tools']) {
      expect(ignore, entry).toContain(entry);
    }
    expect(ignore).toContain('!.env.example');
  });

  it('the stage-1 parser rejects a Dockerfile without FROM (bad input is reported)', () => {
    expect(() => {
      const d = DockerfileParser.parse('RUN npm ci\n');
      if (d.getFROMs().length === 0) throw new Error('no FROM: not a buildable Dockerfile');
    }).toThrow(/no FROM/);
  });
});
