/** docling-serve's options, failures and answer shapes (the client is in docling.ts). */
import type { StageContext } from '../types.js';
import type { DoclingClient as ParseDoclingClient } from './index.js';

export interface DoclingOptions {
  /** docling-serve's base URL, e.g. http://docling:5001. */
  url: string;
  /** Files of this many bytes or more go through the async task API. */
  asyncThresholdBytes: number;
  /** Longest wait for one synchronous conversion. */
  syncTimeoutMs: number;
  /** Longest wait for an async conversion, time in docling's queue included. */
  asyncTimeoutMs: number;
  /** `wait` of each status poll: docling-serve holds the request until done or this many seconds. */
  pollWaitSeconds: number;
  /** Least time between two polls (docling-serve versions without long-poll answer at once). */
  pollIntervalMs: number;
  /** After docling-serve was unreachable or timed out, use the built-in parsers this long. */
  retryAfterMs: number;
  /** Let docling OCR bitmap content (scans). */
  doOcr: boolean;
}

export const DEFAULT_DOCLING_OPTIONS: Omit<DoclingOptions, 'url'> = {
  asyncThresholdBytes: 2 * 1024 * 1024,
  syncTimeoutMs: 180_000,
  asyncTimeoutMs: 20 * 60_000,
  pollWaitSeconds: 5,
  pollIntervalMs: 1000,
  retryAfterMs: 60_000,
  doOcr: true,
};

/** The parser name stored in documents.parser for docling output. */
export const DOCLING_PARSER = 'docling';

export type DoclingFailure =
  'unreachable' | 'timeout' | 'server-error' | 'rejected' | 'bad-response' | 'empty';

/** docling-serve could not give us the text; the message says why, with its address. */
export class DoclingUnavailableError extends Error {
  constructor(
    readonly reason: DoclingFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DoclingUnavailableError';
  }

  /** Whether docling-serve itself is in trouble (as opposed to this one file). */
  get isOutage(): boolean {
    return this.reason === 'unreachable' || this.reason === 'timeout';
  }
}

/**
 * Optional high-fidelity parser for PDF/DOCX/PPTX. `parse` either returns the document (parser
 * `docling`) or throws `DoclingUnavailableError`; any other error (the caller's abort, a
 * document over the text limit) is not docling's fault and is passed on.
 */
export interface DoclingClient extends ParseDoclingClient {
  readonly url: string;
  /** GET /health: true when docling-serve answers {"status":"ok"}. */
  health(ctx: Pick<StageContext, 'signal'>): Promise<boolean>;
}

/** The fields of docling-serve's ConvertDocumentResponse that we read. */
export interface ConvertResponse {
  document?: { filename?: string; md_content?: string | null } | null;
  status?: string;
  errors?: { component_type?: string; module_name?: string; error_message?: string }[];
  processing_time?: number;
}

export interface TaskStatusResponse {
  task_id?: string;
  task_status?: string;
  error_message?: string | null;
}

/** FastAPI's error body: {"detail": "text"} or {"detail": [{"msg": ...}]}. */
export function detailOf(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === 'string') return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail
        .map((d: { msg?: string; loc?: unknown[] }) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`)
        .join('; ');
    }
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200).trim();
}

export function errorText(response: ConvertResponse): string {
  const messages = (response.errors ?? []).map((e) => e.error_message).filter(Boolean);
  return messages.length > 0 ? `: ${messages.join('; ').slice(0, 300)}` : '';
}

export function networkCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return (err as Error).message;
}
