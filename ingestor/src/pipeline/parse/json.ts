/**
 * JSON → lines of `key.path[0].leaf: value`. A top-level object gets one section per key (the key
 * as heading); array elements are separate paragraphs so a record is kept together in a chunk.
 */
import { ParseError, type ParsedDocument } from '../types.js';
import { decodeText, type ParserEnv } from './sink.js';

const MAX_DEPTH = 64;

export function parseJson(data: Uint8Array, env: ParserEnv): ParsedDocument {
  let value: unknown;
  try {
    value = JSON.parse(decodeText(data, 'JSON file'));
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw new ParseError('PARSE_CORRUPT', `JSON is invalid: ${(err as Error).message}`, { cause: err });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      env.checkpoint();
      env.out.push({ text: render(child, key), headingPath: [key] });
    }
  } else {
    env.out.push({ text: render(value, ''), headingPath: [] });
  }
  return { sections: env.out.sections, parser: 'json', warnings: env.warnings };
}

function render(value: unknown, path: string): string {
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    return value.map((v, i) => lines(v, `${path}[${i}]`, 0).join('\n')).join('\n\n');
  }
  return lines(value, path, 0).join('\n');
}

function lines(value: unknown, path: string, depth: number, out: string[] = []): string[] {
  if (value === null || typeof value !== 'object') {
    out.push(`${path || '(value)'}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return out;
  }
  if (depth >= MAX_DEPTH) {
    out.push(`${path}: ${JSON.stringify(value)}`);
    return out;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(`${path}: []`);
    value.forEach((v, i) => lines(v, `${path}[${i}]`, depth + 1, out));
    return out;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) out.push(`${path}: {}`);
  for (const [k, v] of entries) {
    const key = /^[A-Za-z_$][\w$-]*$/.test(k) ? k : JSON.stringify(k);
    lines(v, path ? `${path}.${key}` : key, depth + 1, out);
  }
  return out;
}
