/**
 * Shapes shared by the ingest pipeline stages (parse → chunk → embed → index).
 * Every stage is `(input, { signal, log }) => Promise<output>`.
 */
import { AppError } from '@rattgllm/core';

/** The part of a pino logger the stages use; a pino `Logger` satisfies it. */
export interface StageLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StageContext {
  signal: AbortSignal;
  log: StageLog;
}

/** A run of text under one heading path (and, for paged formats, on one page). */
export interface Section {
  /** Paragraphs separated by blank lines ("\n\n"); lines inside a paragraph by "\n". */
  text: string;
  /** Outermost heading first, e.g. ["Install", "On Linux"]. Empty when the document has none. */
  headingPath: string[];
  /** 1-based page (PDF) or slide (PPTX) number. */
  page?: number;
  /**
   * A line that belongs at the top of every chunk cut from this section, e.g. the header row of a
   * CSV file or spreadsheet, so a chunk of rows 300-340 still says what its columns mean.
   */
  header?: string;
}

export interface ParsedDocument {
  sections: Section[];
  /** Pages (PDF) or slides (PPTX), when the format has them. */
  pageCount?: number;
  /** Which parser produced this, e.g. "pdf:unpdf" — stored with the document for diagnosis. */
  parser: string;
  /** Things a person may want to know (skipped images, unreadable sheet...), never fatal. */
  warnings: string[];
}

export interface Chunk {
  /** 0-based, dense, in document order. */
  index: number;
  text: string;
  headingPath: string[];
  /** `headingPath` joined with " > " ("" when there is none). */
  heading: string;
  /** First page (or slide) the chunk's text comes from. */
  page?: number;
  /** Last page, only when the chunk spans more than one. */
  pageEnd?: number;
  /**
   * Where each later page begins in `text`, as [character offset, page], only when the chunk
   * spans more than one: a hit on page 2 of a "pages 1–2" passage opens page 2.
   */
  pageBreaks?: [number, number][];
  /** Tokens as counted by `countTokens` (conservative; see tokens.ts). */
  tokenCount: number;
}

export type ParseErrorCode =
  | 'PARSE_ENCRYPTED'
  | 'PARSE_CORRUPT'
  | 'PARSE_NO_TEXT'
  | 'PARSE_TOO_LARGE'
  | 'PARSE_ZIP_BOMB'
  | 'PARSE_UNSUPPORTED'
  | 'PARSE_TIMEOUT';

/**
 * A document that cannot be turned into text. `permanent` errors fail the job at once: retrying a
 * corrupt, encrypted, text-less or oversized file gives the same answer every time. The message is
 * written for the person who dropped the file, and lands in `documents.error`.
 */
export class ParseError extends AppError {
  readonly permanent: boolean;

  constructor(
    code: ParseErrorCode,
    message: string,
    options: { permanent?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(422, code, message, options.details);
    this.permanent = options.permanent ?? true;
    if (options.cause !== undefined) this.cause = options.cause;
  }

  declare readonly code: ParseErrorCode;
}

export function isParseError(err: unknown): err is ParseError {
  return err instanceof ParseError;
}

/**
 * The one shape of a pipeline stage (pipeline/stages/): what it needs of the process (settings,
 * clients) is bound when the stage is made; per call it gets its input, a signal and a log.
 */
export type Stage<I, O> = (input: I, ctx: StageContext) => Promise<O>;
