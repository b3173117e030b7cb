/**
 * PDF/DOCX/PPTX through docling-serve (DOCLING_URL): layout analysis, tables and OCR that the
 * built-in parsers do not have.
 *
 * Output: docling's Markdown (`to_formats=md`), split into sections by the shared Markdown parser.
 * Pages come from `md_page_break_placeholder`: docling writes the placeholder between pages, so the
 * n-th placeholder starts page n + 1. That is exact while every page has some content; docling
 * writes one placeholder per page change, so a page with nothing to export (blank, or furniture
 * only) does not get one and later pages count one low. JSON output (`prov[].page_no` per item)
 * would be exact, but is many times larger and would need its own structure walk; a page off by
 * one on a blank page is the cheaper trade.
 *
 * Small files use the synchronous `POST /v1/convert/file`. Large ones use the task API
 * (`/v1/convert/file/async` → `/v1/status/poll/{id}` → `/v1/result/{id}`): docling-serve answers
 * a synchronous request with 504 once DOCLING_SERVE_MAX_SYNC_WAIT (120 s by default) has passed,
 * which a long scanned PDF easily exceeds.
 *
 * Every way docling-serve can fail — down, 5xx, too slow, rejecting the file — is a
 * `DoclingUnavailableError`; parseDocument then parses with the built-in parser and records why.
 * After an outage (refused or timed out) docling-serve is not asked again for `retryAfterMs`, so
 * a reindex of a thousand PDFs does not wait a full timeout for each one while it is down.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ParsedDocument, StageContext } from '../types.js';
import { DEFAULT_PARSE_LIMITS, SectionSink, type ParserEnv } from './sink.js';
import { PAGE_BREAK, doclingDocument } from './docling-document.js';
import {
  DEFAULT_DOCLING_OPTIONS,
  DoclingUnavailableError,
  detailOf,
  networkCode,
  type ConvertResponse,
  type DoclingClient,
  type DoclingOptions,
  type TaskStatusResponse,
} from './docling-types.js';

export {
  DEFAULT_DOCLING_OPTIONS,
  DOCLING_PARSER,
  DoclingUnavailableError,
  type DoclingClient,
  type DoclingFailure,
  type DoclingOptions,
} from './docling-types.js';

export function createDoclingClient(options: Partial<DoclingOptions> & { url: string }): DoclingClient {
  return new DoclingServeClient({ ...DEFAULT_DOCLING_OPTIONS, ...options });
}

class DoclingServeClient implements DoclingClient {
  readonly url: string;
  private readonly base: string;
  /** Set after an outage: until then, fail at once with the outage's message. */
  private outage: { until: number; message: string } | null = null;

  constructor(private readonly options: DoclingOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.base = this.url;
  }

  async health(ctx: Pick<StageContext, 'signal'>): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/health`, {
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(5000)]),
      });
      const body = (await res.json().catch(() => null)) as { status?: string } | null;
      return res.ok && body?.status === 'ok';
    } catch {
      return false;
    }
  }

  async parse(
    input: { data: Uint8Array; filename: string; mime?: string },
    ctx: StageContext,
  ): Promise<ParsedDocument> {
    ctx.signal.throwIfAborted();
    const env: ParserEnv = {
      filename: input.filename,
      signal: ctx.signal,
      log: ctx.log,
      limits: DEFAULT_PARSE_LIMITS,
      warnings: [],
      out: new SectionSink(DEFAULT_PARSE_LIMITS.maxChars, input.filename),
      checkpoint: () => ctx.signal.throwIfAborted(),
    };
    if (this.outage && Date.now() < this.outage.until) {
      throw new DoclingUnavailableError('unreachable', this.outage.message);
    }
    const started = performance.now();
    let response: ConvertResponse;
    try {
      response =
        input.data.length >= this.options.asyncThresholdBytes
          ? await this.convertAsync(input, env.signal)
          : await this.convertSync(input, env.signal);
    } catch (err) {
      if (err instanceof DoclingUnavailableError && err.isOutage) {
        this.outage = { until: Date.now() + this.options.retryAfterMs, message: err.message };
      }
      throw err;
    }
    this.outage = null;
    const isPdf =
      input.data[0] === 0x25 && input.data[1] === 0x50 && input.data[2] === 0x44 && input.data[3] === 0x46;
    const doc = doclingDocument(response, { filename: input.filename, env, isPdf, url: this.url });
    env.log.debug(
      {
        filename: input.filename,
        ms: Math.round(performance.now() - started),
        doclingSeconds: response.processing_time,
        async: input.data.length >= this.options.asyncThresholdBytes,
      },
      'docling-serve converted document',
    );
    return doc;
  }

  private form(input: { data: Uint8Array; filename: string; mime?: string }): FormData {
    const form = new FormData();
    form.append(
      'files',
      new Blob([input.data as Uint8Array<ArrayBuffer>], { type: input.mime ?? 'application/octet-stream' }),
      input.filename,
    );
    form.append('to_formats', 'md');
    // Images as a one-line placeholder: embedded would inline every picture as base64.
    form.append('image_export_mode', 'placeholder');
    form.append('do_ocr', String(this.options.doOcr));
    form.append('md_page_break_placeholder', PAGE_BREAK);
    form.append('abort_on_error', 'false');
    return form;
  }

  private async convertSync(
    input: { data: Uint8Array; filename: string; mime?: string },
    signal: AbortSignal,
  ): Promise<ConvertResponse> {
    return (await this.request(
      '/v1/convert/file',
      { method: 'POST', body: this.form(input) },
      signal,
      this.options.syncTimeoutMs,
    )) as ConvertResponse;
  }

  private async convertAsync(
    input: { data: Uint8Array; filename: string; mime?: string },
    signal: AbortSignal,
  ): Promise<ConvertResponse> {
    const deadline = Date.now() + this.options.asyncTimeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const task = (await this.request(
      '/v1/convert/file/async',
      { method: 'POST', body: this.form(input) },
      signal,
      Math.min(left(), 120_000),
    )) as TaskStatusResponse;
    const id = task.task_id;
    if (typeof id !== 'string' || id.length === 0) {
      throw new DoclingUnavailableError('bad-response', `docling-serve at ${this.url} returned no task_id`);
    }
    let status = task.task_status;
    while (status !== 'success') {
      if (status === 'failure') {
        throw new DoclingUnavailableError(
          'rejected',
          `docling-serve at ${this.url} failed to convert ${input.filename}` +
            (task.error_message ? `: ${task.error_message}` : ''),
        );
      }
      if (Date.now() >= deadline) {
        throw new DoclingUnavailableError(
          'timeout',
          `docling-serve at ${this.url} did not finish ${input.filename} within ` +
            `${Math.round(this.options.asyncTimeoutMs / 1000)} s`,
        );
      }
      const t0 = Date.now();
      const wait = Math.max(0, Math.min(this.options.pollWaitSeconds, (left() - 1000) / 1000));
      const polled = (await this.request(
        `/v1/status/poll/${encodeURIComponent(id)}?wait=${wait}`,
        { method: 'GET' },
        signal,
        Math.min(left(), wait * 1000 + 30_000),
        // docling-serve keeps tasks in memory: a 404 means it restarted and lost ours.
        { 404: `lost task ${id} (restarted?)` },
      )) as TaskStatusResponse;
      status = polled.task_status;
      task.error_message = polled.error_message ?? null;
      const elapsed = Date.now() - t0;
      if (status !== 'success' && elapsed < this.options.pollIntervalMs) {
        await sleep(this.options.pollIntervalMs - elapsed, undefined, { signal });
      }
    }
    return (await this.request(
      `/v1/result/${encodeURIComponent(id)}`,
      { method: 'GET' },
      signal,
      Math.min(left(), 120_000),
    )) as ConvertResponse;
  }

  /**
   * One request with its own time limit. The caller's abort is passed on as is; everything else
   * becomes a DoclingUnavailableError naming docling-serve's address.
   */
  private async request(
    path: string,
    init: RequestInit,
    signal: AbortSignal,
    timeoutMs: number,
    notes: Record<number, string> = {},
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.any([signal, timeout]) });
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new DoclingUnavailableError(
          'timeout',
          `docling-serve at ${this.url} did not answer within ${Math.round(timeoutMs / 1000)} s`,
          { cause: err },
        );
      }
      throw new DoclingUnavailableError(
        'unreachable',
        `docling-serve at ${this.url} was unreachable (${networkCode(err)})`,
        { cause: err },
      );
    }
    if (!res.ok) {
      const detail = notes[res.status] ?? detailOf(text);
      throw new DoclingUnavailableError(
        res.status >= 500 ? 'server-error' : 'rejected',
        `docling-serve at ${this.url} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new DoclingUnavailableError(
        'bad-response',
        `docling-serve at ${this.url} answered ${path} with something that is not JSON`,
        { cause: err },
      );
    }
  }
}
