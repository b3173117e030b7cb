/**
 * Parse stage: a stored file → sections of text with heading paths and pages.
 *
 * Dispatches on the detected format (magic bytes first, then MIME type, then file extension) to
 * one small parser per format. Every document runs under limits — input bytes, extracted
 * characters, wall time (an AbortSignal the parsers check between pages/parts) and, for the ZIP
 * based formats, the zip-bomb guard — so no file can crash or stall the worker. Failures that the
 * same file would hit again are `ParseError`s with `permanent: true`.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ParseError, type ParsedDocument, type StageContext } from '../types.js';
import { parseCsv } from './csv.js';
import { parseDocx } from './docx.js';
import {
  DEFAULT_PARSE_LIMITS,
  decodeText,
  ParseDeadlineExceeded,
  SectionSink,
  type ParseLimits,
  type ParserEnv,
} from './sink.js';
import { parseHtmlString } from './html.js';
import { parseJson } from './json.js';
import { parseMarkdown } from './markdown.js';
import { parsePdf } from './pdf.js';
import { parsePptx } from './pptx.js';
import { parseText } from './text.js';
import { parseXlsx } from './xlsx.js';

export { DEFAULT_PARSE_LIMITS, type ParseLimits, type ZipLimits } from './sink.js';

export type DocumentFormat =
  'pdf' | 'docx' | 'pptx' | 'xlsx' | 'html' | 'md' | 'txt' | 'csv' | 'tsv' | 'json';

export interface ParseInput {
  /** The file's bytes; or give `path` to read it from disk. */
  data?: Uint8Array;
  path?: string;
  filename: string;
  mime?: string;
}

export interface ParseContext extends StageContext {
  limits?: Partial<Omit<ParseLimits, 'zip'>> & { zip?: Partial<ParseLimits['zip']> };
  /** docling-serve, when DOCLING_URL is set: tried first for PDF, DOCX and PPTX. */
  docling?: DoclingClient | undefined;
}

/**
 * Optional high-fidelity parser (docling-serve, DOCLING_URL) for PDF/DOCX/PPTX: layout, tables,
 * OCR (see docling.ts). When it fails the built-in parser takes over and says so in the warnings.
 */
export interface DoclingClient {
  parse(
    input: { data: Uint8Array; filename: string; mime?: string },
    ctx: StageContext,
  ): Promise<ParsedDocument>;
}

const MIME_FORMATS: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/json': 'json',
};

const EXT_FORMATS: Record<string, DocumentFormat> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.pptx': 'pptx',
  '.xlsx': 'xlsx',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.md': 'md',
  '.markdown': 'md',
  '.txt': 'txt',
  '.text': 'txt',
  '.log': 'txt',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.json': 'json',
};

/** The format to parse `filename` as, or undefined when it is not one we read. */
export function detectFormat(filename: string, mime?: string, data?: Uint8Array): DocumentFormat | undefined {
  const ext = extname(filename).toLowerCase();
  const byExt = EXT_FORMATS[ext];
  if (
    data &&
    data.length >= 5 &&
    data[0] === 0x25 &&
    data[1] === 0x50 &&
    data[2] === 0x44 &&
    data[3] === 0x46
  ) {
    return 'pdf'; // "%PDF"
  }
  const base = mime?.split(';')[0]?.trim().toLowerCase();
  const byMime = base ? MIME_FORMATS[base] : undefined;
  // Browsers send text/plain or application/octet-stream for many files: the extension is more
  // specific then (a .md, .csv or .json file sent as text/plain).
  if (byMime && byMime !== 'txt') return byMime;
  return byExt ?? byMime;
}

export async function parseDocument(input: ParseInput, ctx: ParseContext): Promise<ParsedDocument> {
  const limits: ParseLimits = {
    ...DEFAULT_PARSE_LIMITS,
    ...ctx.limits,
    zip: { ...DEFAULT_PARSE_LIMITS.zip, ...ctx.limits?.zip },
  };
  ctx.signal.throwIfAborted();
  const data = input.data ?? (input.path ? await readFile(input.path, { signal: ctx.signal }) : undefined);
  if (!data) throw new TypeError('parseDocument needs data or path');
  if (data.length > limits.maxBytes) {
    throw new ParseError(
      'PARSE_TOO_LARGE',
      `${input.filename} is ${mb(data.length)} MB; the limit for parsing is ${mb(limits.maxBytes)} MB`,
    );
  }
  const format = detectFormat(input.filename, input.mime, data);
  if (!format) {
    throw new ParseError(
      'PARSE_UNSUPPORTED',
      `${input.filename}: unsupported file type${input.mime ? ` (${input.mime})` : ''}; ` +
        'supported: PDF, DOCX, PPTX, XLSX, HTML, Markdown, TXT, CSV, TSV, JSON',
    );
  }

  let fallback: string | undefined;
  if (ctx.docling && (format === 'pdf' || format === 'docx' || format === 'pptx')) {
    try {
      const doc = await ctx.docling.parse(
        { data, filename: input.filename, ...(input.mime ? { mime: input.mime } : {}) },
        ctx,
      );
      if (doc.sections.length > 0) return doc;
      fallback = 'docling-serve found no text';
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      fallback = (err as Error).message;
    }
    ctx.log.warn(
      { filename: input.filename, reason: fallback },
      'docling-serve failed; using the built-in parser',
    );
    fallback = `${fallback}; parsed with the built-in ${format.toUpperCase()} parser instead`;
  }

  // A synchronous parser holds the thread: a timer could not fire before it is done, so its time
  // limit is the deadline its checkpoints read, and it needs no timer or combined signal (making
  // those per document was a tenth of the parse time of a small Markdown file).
  const timeout = SYNC_FORMATS.has(format) ? undefined : AbortSignal.timeout(limits.timeoutMs);
  const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
  const deadline = performance.now() + limits.timeoutMs;
  const env: ParserEnv = {
    checkpoint() {
      signal.throwIfAborted();
      if (performance.now() > deadline) throw new ParseDeadlineExceeded();
    },
    filename: input.filename,
    signal,
    log: ctx.log,
    limits,
    warnings: fallback ? [fallback] : [],
    out: new SectionSink(limits.maxChars, `${input.filename}`),
  };
  const started = performance.now();
  let doc: ParsedDocument;
  try {
    doc = await untilAborted(runParser(format, data, env), signal);
    env.checkpoint();
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (timeout?.aborted || err instanceof ParseDeadlineExceeded) {
      throw new ParseError(
        'PARSE_TIMEOUT',
        `${input.filename} took longer than ${Math.round(limits.timeoutMs / 1000)} s to parse and was given up`,
        { cause: err },
      );
    }
    if (err instanceof ParseError) throw err;
    // Parsing reads only the file, so whatever else a parser library throws is about the file;
    // unknown errors count as transient elsewhere (core's classifyError), so type it here.
    throw new ParseError(
      'PARSE_CORRUPT',
      `${input.filename} could not be parsed: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
  if (doc.sections.length === 0) {
    throw new ParseError(
      'PARSE_NO_TEXT',
      format === 'pdf'
        ? 'PDF has no extractable text (scanned? enable docling OCR)'
        : `${input.filename} has no text to index`,
    );
  }
  ctx.log.debug(
    {
      filename: input.filename,
      format,
      parser: doc.parser,
      sections: doc.sections.length,
      chars: env.out.totalChars,
      ms: Math.round(performance.now() - started),
      warnings: doc.warnings.length,
    },
    'parsed document',
  );
  return doc;
}

/** Formats whose parser runs without awaiting anything (see `parseDocument`). */
const SYNC_FORMATS: ReadonlySet<DocumentFormat> = new Set(['html', 'md', 'txt', 'csv', 'tsv', 'json']);

async function runParser(format: DocumentFormat, data: Uint8Array, env: ParserEnv): Promise<ParsedDocument> {
  switch (format) {
    case 'pdf':
      return parsePdf(data, env);
    case 'docx':
      return parseDocx(data, env);
    case 'pptx':
      return parsePptx(data, env);
    case 'xlsx':
      return parseXlsx(data, env);
    case 'html':
      return parseHtmlString(decodeText(data, 'HTML file'), env, 'html:htmlparser2');
    case 'md':
      return parseMarkdown(data, env);
    case 'txt':
      return parseText(data, env);
    case 'csv':
    case 'tsv':
      return parseCsv(data, env, format === 'tsv');
    case 'json':
      return parseJson(data, env);
  }
}

/**
 * Settles as soon as `signal` aborts, even if the parser is stuck in an await that never checks
 * it (PDF.js on a pathological file); the listener is removed either way.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
