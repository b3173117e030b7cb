/**
 * An in-process docling-serve (v1 API) for tests: `POST /v1/convert/file` (multipart `files` and
 * the conversion options as form fields), the async trio `POST /v1/convert/file/async` →
 * `GET /v1/status/poll/{task_id}` → `GET /v1/result/{task_id}`, and `GET /health`. Answers carry
 * the real field names (`document.md_content`, `status`, `errors`, `processing_time`; tasks
 * `task_id`, `task_status`); errors are FastAPI's `{"detail": …}`. The "conversion" is our own
 * built-in parser rendered as Markdown, with the requested page-break placeholder between pages.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDocument } from '../../ingestor/src/pipeline/parse/index.js';
import { JsonError, StandinServer } from './server.js';

interface Task {
  status: 'pending' | 'started' | 'success' | 'failure';
  polls: number;
  result?: unknown;
}

const silent = { debug() {}, info() {}, warn() {} };

export class DoclingStandin extends StandinServer {
  readonly tasks = new Map<string, Task>();
  /** Counters for tests: conversions done, by API. */
  readonly counters = { sync: 0, async: 0 };
  /** Answer 200 with `status: "failure"` (docling could not convert the file). */
  rejectConversions = false;

  protected errorBody(_status: number, message: string): unknown {
    return { detail: message };
  }

  private async convert(req: IncomingMessage, body: unknown): Promise<unknown> {
    if (!Buffer.isBuffer(body)) throw new JsonError(422, 'Expected a multipart/form-data body with "files"');
    const form = await new Request('http://docling/convert', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type']) },
      body: new Uint8Array(body),
    }).formData();
    const file = form.get('files');
    if (!(file instanceof File)) throw new JsonError(422, 'Field required: files');
    const placeholder = String(form.get('md_page_break_placeholder') ?? '');
    const started = performance.now();
    if (this.rejectConversions)
      return {
        document: { filename: file.name, md_content: null },
        status: 'failure',
        errors: [
          {
            component_type: 'document_backend',
            module_name: 'docling',
            error_message: 'Input document is not valid',
          },
        ],
        processing_time: 0.01,
        timings: {},
      };
    const parsed = await parseDocument(
      { data: new Uint8Array(await file.arrayBuffer()), filename: file.name, mime: file.type },
      { signal: new AbortController().signal, log: silent },
    );
    const pages: string[][] = [];
    let lastHeading = '';
    for (const s of parsed.sections) {
      const page = (s.page ?? 1) - 1;
      while (pages.length <= page) pages.push([]);
      const heading = s.headingPath.at(-1) ?? '';
      if (heading && heading !== lastHeading)
        pages[page]!.push(`${'#'.repeat(Math.min(6, s.headingPath.length + 1))} ${heading}`);
      lastHeading = heading;
      pages[page]!.push(s.text, '<!-- image -->');
    }
    const md = pages.map((p) => p.join('\n\n')).join(`\n\n${placeholder}\n\n`);
    return {
      document: {
        filename: file.name,
        md_content: md,
        json_content: null,
        html_content: null,
        text_content: null,
        doctags_content: null,
      },
      status: 'success',
      errors: [],
      processing_time: (performance.now() - started) / 1000,
      timings: {},
    };
  }

  protected handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    url: URL,
  ): Promise<void> => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/health') return this.sendJson(res, 200, { status: 'ok' });
    if (req.method === 'POST' && path === '/v1/convert/file') {
      this.counters.sync++;
      return this.sendJson(res, 200, await this.convert(req, body));
    }
    if (req.method === 'POST' && path === '/v1/convert/file/async') {
      this.counters.async++;
      const id = randomUUID();
      const task: Task = { status: 'pending', polls: 0 };
      this.tasks.set(id, task);
      // Converted in the background, as docling-serve's worker does.
      this.convert(req, body).then(
        (result) => Object.assign(task, { status: 'success', result }),
        () => Object.assign(task, { status: 'failure' }),
      );
      return this.sendJson(res, 200, {
        task_id: id,
        task_type: 'convert',
        task_status: 'pending',
        task_position: 1,
        task_meta: null,
      });
    }
    const poll = /^\/v1\/status\/poll\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && poll) {
      const task = this.tasks.get(decodeURIComponent(poll[1]!));
      if (!task) throw new JsonError(404, 'Task not found.');
      // The first poll always sees it still running.
      const status = task.polls++ === 0 && task.status === 'success' ? 'started' : task.status;
      return this.sendJson(res, 200, {
        task_id: poll[1],
        task_type: 'convert',
        task_status: status,
        task_position: null,
        task_meta: null,
      });
    }
    const result = /^\/v1\/result\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && result) {
      const task = this.tasks.get(decodeURIComponent(result[1]!));
      if (!task) throw new JsonError(404, 'Task not found.');
      if (task.status !== 'success')
        throw new JsonError(404, 'Task result not found. Please wait for a completion status.');
      return this.sendJson(res, 200, task.result);
    }
    throw new JsonError(404, 'Not Found');
  };
}
