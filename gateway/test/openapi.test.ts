import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { startGateway } from '../../test/support/gateway.js';

describe('the OpenAPI document (/docs/json)', () => {
  let app: FastifyInstance;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON document
  let doc: any;
  beforeAll(async () => {
    app = await startGateway();
    doc = (await app.inject('/docs/json')).json();
  });

  it('has a servers entry for /api (behind Caddy) and one for the gateway itself, the one in use first', async () => {
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual(['/', '/api']);
    const proxied = await app.inject({ url: '/docs/json', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.json().servers.map((s: { url: string }) => s.url)).toEqual(['/api', '/']);
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

  it('documents the multipart body of POST /upload, so the page can try an upload', () => {
    const body = doc.paths['/upload'].post.requestBody.content['multipart/form-data'].schema;
    expect(body.required).toEqual(['file']);
    expect(body.properties.file.items).toEqual({ type: 'string', format: 'binary' });
    expect(Object.keys(body.properties)).toEqual(['file', 'access', 'tags']);
  });

  it('has an example for every status with a body, and each example fits its schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('binary', true);
    const missing: string[] = [];
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, methods] of Object.entries<
      Record<
        string,
        { responses?: Record<string, { content?: Record<string, { schema?: object; example?: unknown }> }> }
      >
    >(doc.paths))
      for (const [method, op] of Object.entries(methods))
        for (const [status, res] of Object.entries(op.responses ?? {}))
          for (const [type, media] of Object.entries(res.content ?? {})) {
            const at = `${method.toUpperCase()} ${path} ${status} ${type}`;
            if (media.example === undefined) {
              missing.push(at);
              continue;
            }
            if (!media.schema) continue;
            // The schema with the document's components beside it, so its $refs resolve.
            const validate = ajv.compile({ ...media.schema, components: doc.components });
            checked++;
            if (!validate(media.example)) wrong.push(`${at}: ${ajv.errorsText(validate.errors)}`);
          }
    expect(missing).toEqual([]);
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(80);
    // The main routes answer with a real example, not a placeholder.
    const search = doc.paths['/search'].post.responses['200'].content['application/json'].example;
    expect(search.results[0]).toMatchObject({ filename: 'travel-policy.pdf', denseScore: 0.82 });
  });
});
