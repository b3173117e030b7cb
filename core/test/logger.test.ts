import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/index.js';

const FIXTURE = new URL('./fixtures/log-then-exit.ts', import.meta.url).pathname;

/** Runs the fixture with stdout into a pipe (as under Docker); its exit code and its log lines. */
async function run(mode: string, sync = 'false', handleSignal = false) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=development',
      ...(handleSignal ? ['--import', SIGNAL_HANDLER] : []),
      FIXTURE,
      mode,
      sync,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.resume();
  const [code] = (await once(child, 'exit')) as [number | null];
  const lines = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; i?: number; mode?: string });
  return { code, lines };
}

// As the gateway and the ingestor do: SIGTERM ends the process through process.exit.
const SIGNAL_HANDLER = `data:text/javascript,process.once('SIGTERM', () => process.exit(0));`;

describe('the log destination', () => {
  it('is asynchronous unless LOG_SYNC=true', () => {
    const env = { JWT_SECRET: 'x'.repeat(32) };
    expect(parseConfig(env).LOG_SYNC).toBe(false);
    expect(parseConfig({ ...env, LOG_SYNC: 'true' }).LOG_SYNC).toBe(true);
  });

  it.each([
    ['exit', 3],
    ['throw', 1],
    ['reject', 1],
    ['end', 0],
  ])('loses no line logged just before the process ends (%s)', async (mode, exitCode) => {
    const { code, lines } = await run(mode);
    expect(code).toBe(exitCode);
    expect(lines).toHaveLength(2001);
    expect(lines.filter((l) => l.msg === 'line').map((l) => l.i)).toEqual(
      Array.from({ length: 2000 }, (_, i) => i),
    );
    expect(lines.at(-1)).toMatchObject({ msg: 'last line', mode });
  });

  it('loses no line when SIGTERM ends the process through its handler', async () => {
    const { code, lines } = await run('signal', 'false', true);
    expect(code).toBe(0);
    expect(lines).toHaveLength(2001);
    expect(lines.at(-1)).toMatchObject({ msg: 'last line', mode: 'signal' });
  });

  it('writes synchronously with LOG_SYNC=true', async () => {
    const { code, lines } = await run('exit', 'true');
    expect(code).toBe(3);
    expect(lines).toHaveLength(2001);
  });
});
