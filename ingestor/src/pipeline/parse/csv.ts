/**
 * CSV/TSV → one section whose `header` is the header row, so every chunk of rows repeats it.
 * csv-parse handles quoting, embedded newlines and BOMs; the delimiter is guessed from the first
 * line (",", ";" or tab) unless the file is .tsv.
 */
import { parse } from 'csv-parse/sync';
import { ParseError, type ParsedDocument } from '../types.js';
import { decodeText, type ParserEnv } from './sink.js';

export function parseCsv(data: Uint8Array, env: ParserEnv, tsv: boolean): ParsedDocument {
  const text = decodeText(data, 'CSV file');
  const firstLine = text.slice(0, Math.max(0, text.indexOf('\n')) || 4096);
  const delimiter = tsv ? '\t' : guessDelimiter(firstLine);
  let rows: string[][];
  try {
    rows = parse(text, {
      delimiter,
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
    }) as string[][];
  } catch (err) {
    throw new ParseError('PARSE_CORRUPT', `CSV is malformed: ${(err as Error).message}`, { cause: err });
  }
  env.checkpoint();
  const [head, ...body] = rows;
  if (head) {
    const header = formatRow(head);
    const lines: string[] = [];
    for (const row of body) {
      const line = formatRow(row);
      if (line.length > 0) lines.push(line);
    }
    env.out.push(
      lines.length > 0
        ? { text: lines.join('\n'), headingPath: [], header }
        : { text: header, headingPath: [] },
    );
  }
  return { sections: env.out.sections, parser: 'csv:csv-parse', warnings: env.warnings };
}

export function formatRow(cells: readonly string[]): string {
  let last = cells.length;
  while (last > 0 && cells[last - 1]!.trim() === '') last--;
  const out: string[] = [];
  for (let i = 0; i < last; i++) out.push(cells[i]!.replace(/\s+/g, ' ').trim());
  return out.join(' | ');
}

function guessDelimiter(line: string): string {
  const counts: [string, number][] = [',', ';', '\t', '|'].map((d) => [d, line.split(d).length - 1]);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}
