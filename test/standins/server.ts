/**
 * The HTTP plumbing both stand-ins share: an in-process node:http server on 127.0.0.1 with a
 * random port, a request log, and fault injection that looks to a client the way a real outage
 * does (a stopped server refuses connections; a slow one answers late; a failing one answers 5xx).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  status: number;
  /** Parsed JSON answer (undefined for streams and plain-text answers). */
  response: unknown;
}

export interface Faults {
  /** Every answer waits this long first (ms). */
  slowMs: number;
  /**
   * Answer the next `remaining` requests with this status (and the service's own error body);
   * only requests to `path` when set, with a `retry-after` header (seconds) when set.
   */
  serverError: {
    status: number;
    message: string;
    remaining: number;
    path?: string | undefined;
    retryAfter?: number | undefined;
  } | null;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  url: URL,
) => Promise<void> | void;

export class JsonError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Ollama's `/api/embed` `input`: one string, a list of strings, or nothing (no texts). Anything
 * else is Ollama's 400 "invalid input type".
 */
export function embedInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((x) => typeof x === 'string')) return input as string[];
  if (input === undefined) return [];
  throw new JsonError(400, 'invalid input type');
}

export abstract class StandinServer {
  readonly log: LoggedRequest[] = [];
  readonly faults: Faults = { slowMs: 0, serverError: null };
  private server: Server | undefined;
  private port = 0;
  private isDown = false;

  protected abstract handle: Handler;
  /** The service's error body for `message` (Qdrant and Ollama shape them differently). */
  protected abstract errorBody(status: number, message: string, path: string): unknown;

  /**
   * How long an idle client connection is kept (ms). 1 s is below undici's 2 s safety margin, so
   * clients open a new connection for every request — which the fault tests rely on (a stopped
   * stand-in is then always "refused", never a reset pooled socket). Benchmarks set 5 s, like the
   * real services, so they do not measure TCP connects.
   */
  keepAliveTimeoutMs = 1000;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listen on 127.0.0.1 (`port` 0: a random free port). */
  async start(port = 0): Promise<this> {
    await this.listen(port);
    return this;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.dispatch(req, res));
    server.keepAliveTimeout = this.keepAliveTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening (clients get ECONNREFUSED, like a stopped container) or start again on the same port. */
  async setDown(down: boolean): Promise<void> {
    if (down === this.isDown) return;
    this.isDown = down;
    if (down) {
      const s = this.server!;
      this.server = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    } else {
      await this.listen(this.port);
    }
  }

  /** The next `count` requests (to `options.path`, if given) fail with `status` (default: all until reset). */
  failWith(
    status: number,
    message: string,
    count = Number.POSITIVE_INFINITY,
    options: { path?: string; retryAfter?: number } = {},
  ): void {
    this.faults.serverError = { status, message, remaining: count, ...options };
  }

  resetFaults(): void {
    this.faults.slowMs = 0;
    this.faults.serverError = null;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  protected sendJson(res: ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    (res as ServerResponse & { loggedJson?: unknown }).loggedJson = value;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: undefined,
      status: 0,
      response: undefined,
    };
    res.on('finish', () => {
      entry.status = res.statusCode;
      entry.response = (res as ServerResponse & { loggedJson?: unknown }).loggedJson;
    });
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const rawBytes = Buffer.concat(chunks);
      const raw = rawBytes.toString('utf8');
      // Multipart uploads (docling-serve) stay bytes; every other body here is JSON.
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/')) entry.body = rawBytes;
      else if (raw) {
        try {
          entry.body = JSON.parse(raw);
        } catch (err) {
          this.log.push(entry);
          throw new JsonError(400, `Format error in JSON body: ${(err as Error).message}`);
        }
      }
      this.log.push(entry);
      if (this.faults.slowMs > 0) await sleep(this.faults.slowMs);
      if (res.destroyed) return;
      const fault = this.faults.serverError;
      if (fault && fault.remaining > 0 && (!fault.path || fault.path === url.pathname)) {
        fault.remaining--;
        if (fault.retryAfter !== undefined) res.setHeader('retry-after', String(fault.retryAfter));
        this.sendJson(res, fault.status, this.errorBody(fault.status, fault.message, url.pathname));
        return;
      }
      await this.handle(req, res, entry.body, url);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof JsonError ? err.status : 500;
      this.sendJson(res, status, this.errorBody(status, (err as Error).message, url.pathname));
    }
  }
}
