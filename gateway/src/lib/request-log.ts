import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** A parameter's name as the query parser reads it (`%74oken` is `token`). */
function paramName(part: string): string {
  const name = part.slice(0, (part.indexOf('=') + 1 || part.length + 1) - 1);
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/** The URL with the value of every `token` parameter (event-stream and document links) hidden. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&');
  if (!params.some((p) => paramName(p) === 'token')) return url;
  const safe = params.map((p) => (paramName(p) === 'token' ? `${p.split('=')[0]}=[redacted]` : p));
  return `${url.slice(0, q)}?${safe.join('&')}`;
}

/**
 * How a request appears in a log line: Fastify's fields, without the `accept-version` header, and
 * with a URL's `token` parameter hidden (a document link's token opens the document for a day).
 * No header is ever written, so Authorization, cookies and forwarded JWTs stay out of the logs.
 */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export class RequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}
