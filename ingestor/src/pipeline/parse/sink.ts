/** What every format parser gets, and the shared guard on how much text a document may yield. */
import { ParseError, type Section, type StageLog } from '../types.js';

export interface ZipLimits {
  /** Entries in the archive's central directory. */
  maxEntries: number;
  /** Sum of the declared uncompressed sizes of all entries. */
  maxUncompressedBytes: number;
  /** Declared uncompressed size over compressed file size: a real DOCX is 3-20×, a bomb 1000×. */
  maxRatio: number;
}

export interface ParseLimits {
  /** Bytes of input. */
  maxBytes: number;
  /** Characters of extracted text; more is refused, not truncated, so nothing is silently lost. */
  maxChars: number;
  /** Wall time per document. */
  timeoutMs: number;
  zip: ZipLimits;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxBytes: 200 * 1024 * 1024,
  maxChars: 50_000_000,
  timeoutMs: 120_000,
  zip: { maxEntries: 10_000, maxUncompressedBytes: 500 * 1024 * 1024, maxRatio: 200 },
};

export interface ParserEnv {
  filename: string;
  signal: AbortSignal;
  log: StageLog;
  limits: ParseLimits;
  warnings: string[];
  out: SectionSink;
  /**
   * Throws if the caller aborted or the time limit has passed. Parsers call it between pages,
   * parts and slices: a timer-based signal cannot fire while synchronous parsing holds the thread.
   */
  checkpoint(): void;
}

/** Thrown by `checkpoint` when the document's time is up; parseDocument turns it into PARSE_TIMEOUT. */
export class ParseDeadlineExceeded extends Error {
  constructor() {
    super('parse time limit exceeded');
    this.name = 'ParseDeadlineExceeded';
  }
}

/** Collects sections, dropping empty ones and enforcing `maxChars` as text arrives. */
export class SectionSink {
  readonly sections: Section[] = [];
  private chars = 0;

  constructor(
    private readonly maxChars: number,
    private readonly label: string,
  ) {}

  push(section: Section): void {
    const text = section.text.trim();
    if (text.length === 0) return;
    this.chars += text.length;
    if (this.chars > this.maxChars) {
      throw new ParseError(
        'PARSE_TOO_LARGE',
        `${this.label} has more than ${this.maxChars.toLocaleString('en')} characters of text; ` +
          'split it into smaller files',
        { details: { maxChars: this.maxChars } },
      );
    }
    const clean: Section = { text, headingPath: section.headingPath };
    if (section.page !== undefined) clean.page = section.page;
    if (section.header) clean.header = section.header;
    this.sections.push(clean);
  }

  get totalChars(): number {
    return this.chars;
  }
}

/**
 * Decodes text files: UTF-8 (BOM stripped) unless a UTF-16 BOM says otherwise. Refuses content
 * with NUL bytes near the start — a binary file with a text extension — instead of indexing junk.
 */
export function decodeText(data: Uint8Array, label: string): string {
  if (data.length >= 2 && data[0] === 0xff && data[1] === 0xfe) {
    return new TextDecoder('utf-16le').decode(data);
  }
  if (data.length >= 2 && data[0] === 0xfe && data[1] === 0xff) {
    return new TextDecoder('utf-16be').decode(data);
  }
  // indexOf on the typed array is a native scan, several times faster than a loop over bytes.
  if (data.subarray(0, 8192).indexOf(0) !== -1) {
    throw new ParseError(
      'PARSE_UNSUPPORTED',
      `${label} is not text (it contains binary data); check the file type`,
    );
  }
  return utf8.decode(data);
}

/** Stateless without `stream`, so one decoder serves every document. */
const utf8 = new TextDecoder('utf-8');

/** Normalises line ends so paragraph detection sees "\n\n" everywhere. */
export function normalizeNewlines(text: string): string {
  return text.indexOf('\r') === -1 ? text : text.replace(/\r\n?/g, '\n');
}
