/**
 * Helpers for the deployment checks that run without a Docker engine: reading the compose files
 * and .env.example the way Docker Compose does (YAML merge keys, `${VAR}` interpolation), and
 * running the real Caddy from the host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument, type Document } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---- .env files

export interface EnvFile {
  /** Variables set on uncommented lines. */
  values: Record<string, string>;
  /** Variables documented only on a commented line (`# QDRANT_API_KEY=`). */
  documented: Set<string>;
}

/** Parse a dotenv file the way Compose reads `.env` (KEY=VALUE, optional quotes, # comments). */
export function parseEnvFile(text: string): EnvFile {
  const values: Record<string, string> = {};
  const documented = new Set<string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (commented) {
      documented.add(commented[1]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`.env line ${i + 1} is neither KEY=VALUE nor a comment: ${raw}`);
    let value = m[2]!;
    const quoted = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value);
    if (quoted) value = quoted[1]!;
    else value = value.replace(/\s+#.*$/, '');
    values[m[1]!] = value;
  }
  return { values, documented };
}

// ---- Compose interpolation (https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/)

const INTERPOLATION =
  /\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export interface VariableUse {
  name: string;
  /** `:-`, `-`, `:?`, `?`, `:+`, `+` or undefined for a bare `${VAR}`. */
  operator?: string;
  argument?: string;
}

/** Every string value of a parsed YAML document (Compose interpolates values, not keys or comments). */
export function stringsOf(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(stringsOf);
  if (node && typeof node === 'object') return Object.values(node).flatMap(stringsOf);
  return [];
}

/** Every variable a compose file interpolates (`$$` escapes are not variables; comments are skipped). */
export function variablesUsed(composeText: string): VariableUse[] {
  const uses: VariableUse[] = [];
  const text = stringsOf(parse(composeText, { merge: true, logLevel: 'error' })).join('\n');
  for (const m of text.matchAll(INTERPOLATION)) {
    if (m[1]) continue;
    const name = m[2] ?? m[5]!;
    uses.push({ name, operator: m[3], argument: m[4] });
  }
  return uses;
}

/** Interpolate one string as Compose does; a `${X:?msg}` whose X is unset or empty throws. */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(INTERPOLATION, (_all, dollar, name, op, arg, bare) => {
    if (dollar) return '$';
    const key = (name ?? bare) as string;
    const v = env[key];
    const set = v !== undefined;
    const nonEmpty = set && v !== '';
    switch (op as string | undefined) {
      case ':-':
        return nonEmpty ? v : interpolate(arg ?? '', env);
      case '-':
        return set ? v : interpolate(arg ?? '', env);
      case ':?':
        if (!nonEmpty) throw new Error(`required variable ${key} is missing a value: ${arg}`);
        return v;
      case '?':
        if (!set) throw new Error(`required variable ${key} is missing a value: ${arg}`);
        return v;
      case ':+':
        return nonEmpty ? interpolate(arg ?? '', env) : '';
      case '+':
        return set ? interpolate(arg ?? '', env) : '';
      default:
        return v ?? '';
    }
  });
}

/** Apply `interpolate` to every string (not key) of a parsed document. */
export function interpolateAll(node: unknown, env: Record<string, string>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return node;
}

/**
 * Variables a compose text uses that .env.example neither sets nor documents — the check behind
 * "every ${VAR} is in .env.example". Returns the names, sorted and unique.
 */
export function undocumentedVariables(composeText: string, env: EnvFile): string[] {
  const names = new Set(variablesUsed(composeText).map((u) => u.name));
  return [...names].filter((n) => !(n in env.values) && !env.documented.has(n)).sort();
}

/** `image:` references that are not pinned to a version: no tag, `latest`, or a tag without a digit. */
export function unpinnedImages(images: string[]): string[] {
  return images.filter((image) => {
    if (image.includes('@sha256:')) return false;
    const lastSegment = image.split('/').pop()!;
    const tag = lastSegment.includes(':') ? lastSegment.split(':').pop()! : '';
    return tag === '' || tag === 'latest' || !/\d/.test(tag);
  });
}

// ---- Compose files

export interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: unknown[];
  container_name?: string;
  environment?: Record<string, string> | string[];
  volumes?: (string | { type: string; source: string; target: string })[];
  networks?: string[] | Record<string, unknown>;
  healthcheck?: { test: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  deploy?: {
    resources?: {
      reservations?: { devices?: { driver?: string; count?: string | number; capabilities?: string[] }[] };
    };
  };
  restart?: string;
  profiles?: string[];
  command?: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, { name?: string } | null>;
  networks?: Record<string, { name?: string } | null>;
  [key: `x-${string}`]: unknown;
}

/** Parse a compose file as Compose does: YAML 1.2 with `<<` merge keys. */
export function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true, uniqueKeys: true, strict: true }) as ComposeFile;
}

/** The YAML document itself, for reading Compose's own tags (`!reset`, `!override`). */
export function composeDocument(text: string): Document {
  return parseDocument(text, { merge: true, logLevel: 'error' });
}

// ---- Processes

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Path of the `caddy` binary. CI installs Debian's package (.ci/run), so a missing Caddy is a
 * failure with instructions, never a skipped test.
 */
export function caddyBinary(): string {
  const found = spawnSync('caddy', ['version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      'The `caddy` binary is not on PATH. Install it (Debian/Ubuntu: `apt-get install caddy`); .ci/run does this in CI.',
    );
  }
  return 'caddy';
}

export interface RunningCaddy {
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Start `caddy run` with the repository's Caddyfile and the given environment; resolves once `readyUrl` answers. */
export async function startCaddy(env: Record<string, string>, readyUrl: string): Promise<RunningCaddy> {
  const bin = caddyBinary();
  let output = '';
  const child = spawn(bin, ['run', '--adapter', 'caddyfile', '--config', join(ROOT, 'Caddyfile')], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`caddy exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(readyUrl, { redirect: 'manual', signal: AbortSignal.timeout(1000) });
      return { process: child, output: () => output, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`caddy did not answer ${readyUrl} within 15s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
