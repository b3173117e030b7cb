import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeDocument } from '@rattgllm/core';

const run = promisify(execFile);
const node = process.execPath;

/**
 * Production runs the compiled JavaScript on plain Node, not the TypeScript that Vitest
 * transforms: an import that only works through Vitest (e.g. a named import from a CommonJS
 * package) must fail here, not in the container. `npm test` builds first.
 */
describe('the built packages run on plain Node', () => {
  it('dist exists (npm test runs the build first)', () => {
    for (const f of ['core/dist/index.js', 'gateway/dist/server.js', 'ingestor/dist/main.js'])
      expect(existsSync(f), `${f} — run npm run build`).toBe(true);
  });

  it('@rattgllm/core loads and encodes the same as under Vitest', async () => {
    const { stdout } = await run(node, [
      '-e',
      "import('@rattgllm/core').then(m => console.log(JSON.stringify(m.encodeDocument('Quarterly budgets and timelines'))))",
    ]);
    expect(JSON.parse(stdout)).toEqual(encodeDocument('Quarterly budgets and timelines'));
  });

  it('the gateway refuses to start without its secrets, naming them', async () => {
    const err = await run(node, ['gateway/dist/server.js'], { env: { PATH: process.env.PATH } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/JWT_SECRET: required but not set/);
  });

  it('the ingestor says clearly which service it cannot reach', async () => {
    const env = {
      PATH: process.env.PATH,
      JWT_SECRET: 'x'.repeat(32),
      S3_ENDPOINT: 'http://127.0.0.1:1',
      DATABASE_URL: 'postgres://a:b@127.0.0.1:1/c',
    };
    const err = await run(node, ['ingestor/dist/main.js'], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(
      /ingestor could not start: Object storage at http:\/\/127\.0\.0\.1:1 refused the connection/,
    );
  });
});
