import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startGateway } from '../../test/support/gateway.js';

describe('the OpenAPI document (/docs/json)', () => {
  let app: FastifyInstance;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON document
  let doc: any;
  beforeAll(async () => {
    app = await startGateway();
    doc = (await app.inject('/docs/json')).json();
  });

  it('has a servers entry for /api (behind Caddy) and one for the gateway itself', () => {
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual(['/api', '/']);
  });

  it('describes every status, never "Default Response", with example error bodies', () => {
    let statuses = 0;
    for (const [path, methods] of Object.entries<
      Record<string, { responses?: Record<string, { description?: string }> }>
    >(doc.paths))
      for (const [method, op] of Object.entries(methods))
        for (const [status, res] of Object.entries(op.responses ?? {})) {
          statuses++;
          expect({ at: `${method} ${path} ${status}`, d: res.description }).not.toMatchObject({
            d: 'Default Response',
          });
          expect(res.description).toBeTruthy();
        }
    expect(statuses).toBeGreaterThan(50);
    const notFound = doc.paths['/documents/{id}'].get.responses['404'];
    expect(notFound.description).toBe('Not Found');
    expect(notFound.content['application/json'].example).toMatchObject({
      statusCode: 404,
      code: 'DOCUMENT_NOT_FOUND',
    });
  });

  it('every operation describes its success answer, /v1 included (JSON and the event stream)', () => {
    const missing: string[] = [];
    for (const [path, methods] of Object.entries<Record<string, { responses?: Record<string, unknown> }>>(
      doc.paths,
    ))
      for (const [method, op] of Object.entries(methods))
        if (!Object.keys(op.responses ?? {}).some((s) => /^[23]/.test(s))) missing.push(`${method} ${path}`);
    expect(missing).toEqual([]);
    const chat = doc.paths['/v1/chat/completions'].post.responses;
    expect(Object.keys(chat['200'].content).sort()).toEqual(['application/json', 'text/event-stream']);
    expect(chat['200'].content['application/json'].schema.properties.sources).toBeTruthy();
    expect(
      doc.paths['/v1/models'].get.responses['200'].content['application/json'].schema.properties.data,
    ).toBeTruthy();
    expect(doc.paths['/v1/embeddings'].post.responses['200']).toBeTruthy();
    // /v1 errors are documented in OpenAI's shape, the rest in ours.
    expect(chat['401'].content['application/json'].example).toMatchObject({
      error: { type: 'authentication_error', code: 'missing_token' },
    });
  });

  it('documents the multipart body of POST /upload, so the page can try an upload', () => {
    const body = doc.paths['/upload'].post.requestBody.content['multipart/form-data'].schema;
    expect(body.required).toEqual(['file']);
    expect(body.properties.file.items).toEqual({ type: 'string', format: 'binary' });
    expect(Object.keys(body.properties)).toEqual(['file', 'access', 'tags']);
  });
});
