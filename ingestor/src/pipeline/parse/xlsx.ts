/**
 * XLSX → one section per sheet, the sheet name as heading and its first non-empty row as the
 * `header` repeated in every chunk. Reads the XML itself (fflate + htmlparser2): shared strings,
 * inline strings, booleans and numbers. Dates stay Excel serial numbers (formatting is not read).
 */
import { ParseError, type ParsedDocument } from '../types.js';
import { formatRow } from './csv.js';
import type { ParserEnv } from './sink.js';
import { readRels, walkXml } from './xml.js';
import { entryText, extractZip, inspectZip } from './zip.js';

export async function parseXlsx(data: Uint8Array, env: ParserEnv): Promise<ParsedDocument> {
  inspectZip(data, env.limits.zip, 'XLSX');
  const files = extractZip(data, (n) => n.endsWith('.xml') || n.endsWith('.rels'), 'XLSX');
  const workbook = entryText(files, 'xl/workbook.xml');
  if (!workbook) throw new ParseError('PARSE_CORRUPT', 'XLSX is corrupt: xl/workbook.xml is missing');
  const rels = readRels(entryText(files, 'xl/_rels/workbook.xml.rels'), 'xl/');
  const sheets: { name: string; part: string }[] = [];
  walkXml(workbook, {
    open(name, attrs) {
      if (name === 'sheet' && attrs.name) {
        const part = attrs['r:id'] ? rels.get(attrs['r:id']) : undefined;
        if (part) sheets.push({ name: attrs.name, part });
      }
    },
  });
  const strings = sharedStrings(entryText(files, 'xl/sharedStrings.xml'));
  for (const sheet of sheets) {
    env.checkpoint();
    const xml = entryText(files, sheet.part);
    if (!xml) {
      env.warnings.push(`sheet "${sheet.name}" is missing (${sheet.part})`);
      continue;
    }
    const rows = sheetRows(xml, strings);
    const lines = rows.map(formatRow).filter((l) => l.length > 0);
    const [header, ...body] = lines;
    if (!header) continue;
    env.out.push(
      body.length > 0
        ? { text: body.join('\n'), headingPath: [sheet.name], header }
        : { text: header, headingPath: [sheet.name] },
    );
  }
  return { sections: env.out.sections, parser: 'xlsx', warnings: env.warnings };
}

function sharedStrings(xml: string | undefined): string[] {
  const out: string[] = [];
  if (!xml) return out;
  let current: string[] = [];
  let inT = false;
  let inPhonetic = false;
  walkXml(xml, {
    open(name) {
      if (name === 'si') current = [];
      else if (name === 't') inT = true;
      else if (name === 'rPh') inPhonetic = true;
    },
    text(t) {
      if (inT && !inPhonetic) current.push(t);
    },
    close(name) {
      if (name === 't') inT = false;
      else if (name === 'rPh') inPhonetic = false;
      else if (name === 'si') out.push(current.join(''));
    },
  });
  return out;
}

function columnIndex(ref: string | undefined, fallback: number): number {
  if (!ref) return fallback;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n > 0 ? n - 1 : fallback;
}

function sheetRows(xml: string, strings: string[]): string[][] {
  const rows: string[][] = [];
  let row: string[] | undefined;
  let col = 0;
  let type = '';
  let value: string[] = [];
  let capture = false;
  walkXml(xml, {
    open(name, attrs) {
      if (name === 'row') {
        row = [];
        col = 0;
      } else if (name === 'c') {
        col = columnIndex(attrs.r, col);
        type = attrs.t ?? 'n';
        value = [];
      } else if (name === 'v' || name === 't') capture = true;
    },
    text(t) {
      if (capture) value.push(t);
    },
    close(name) {
      if (name === 'v' || name === 't') capture = false;
      else if (name === 'c' && row) {
        const raw = value.join('');
        let cell = raw;
        if (type === 's') cell = strings[Number(raw)] ?? '';
        else if (type === 'b') cell = raw === '1' ? 'TRUE' : 'FALSE';
        // Columns are bounded: a cell at XFD1048576 must not allocate a 16k-wide row.
        if (col < 16384) row[col] = cell;
        col++;
      } else if (name === 'row' && row) {
        for (let i = 0; i < row.length; i++) if (row[i] === undefined) row[i] = '';
        rows.push(row);
        row = undefined;
      }
    },
  });
  return rows;
}
