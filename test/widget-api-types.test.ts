/**
 * The widget's hand-written API types (widget/src/lib/api-types.ts; the widget imports nothing of
 * the server) against the gateway's OpenAPI document: every field the gateway sends is declared,
 * nothing is declared that it does not send, and optional / nullable agree. A field added,
 * renamed or made nullable on one side fails here (ApiKeyInfo once lacked `userId`).
 */
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './support/gateway.js';

type Schema = {
  $ref?: string;
  type?: string;
  anyOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
};

/** Widget interface → where its shape is in the OpenAPI document (a path into a response schema). */
const WHERE: Record<string, [method: string, path: string, status: string, ...into: string[]]> = {
  SessionUser: ['post', '/auth/login', '200', 'user'],
  Me: ['get', '/auth/me', '200'],
  DocumentInfo: ['get', '/documents/{id}', '200'],
  SearchResult: ['post', '/search', '200', 'results', '[]'],
  UserInfo: ['get', '/users', '200', 'users', '[]'],
  ApiKeyInfo: ['get', '/api-keys', '200', 'keys', '[]'],
  PublicConfig: ['get', '/config', '200'],
  Readiness: ['get', '/ready', '200'],
  QueueInfo: ['get', '/documents/queue', '200'],
  QueueItem: ['get', '/documents/queue', '200', 'items', '[]'],
};

interface Field {
  optional: boolean;
  nullable: boolean;
}

/** The declared fields of each exported interface, as the type checker sees them (extends included). */
function widgetInterfaces(): Map<string, Map<string, Field>> {
  const file = join(import.meta.dirname, '..', 'widget', 'src', 'lib', 'api-types.ts');
  const program = ts.createProgram([file], { strict: true, target: ts.ScriptTarget.ES2022, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const out = new Map<string, Map<string, Field>>();
  ts.forEachChild(source, (node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const type = checker.getTypeAtLocation(node);
    const fields = new Map<string, Field>();
    for (const prop of checker.getPropertiesOfType(type)) {
      const text = checker.typeToString(checker.getTypeOfSymbolAtLocation(prop, node));
      fields.set(prop.name, {
        optional: (prop.flags & ts.SymbolFlags.Optional) !== 0,
        nullable: /\bnull\b/.test(text),
      });
    }
    out.set(node.name.text, fields);
  });
  return out;
}

describe("the widget's API types match the gateway's OpenAPI document", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON document
  let doc: any;
  const widget = widgetInterfaces();

  beforeAll(async () => {
    const app = await startGateway();
    doc = (await app.inject('/docs/json')).json();
  });

  const resolve = (s: Schema): Schema => {
    if (s.$ref) return resolve(doc.components.schemas[s.$ref.split('/').pop()!]);
    if (s.allOf) {
      const parts = s.allOf.map(resolve);
      return {
        type: 'object',
        properties: Object.assign({}, ...parts.map((p) => p.properties)),
        required: parts.flatMap((p) => p.required ?? []),
      };
    }
    return s;
  };

  const schemaAt = ([method, path, status, ...into]: string[]): Schema => {
    let s = resolve(doc.paths[path!][method!].responses[status!].content['application/json'].schema);
    for (const step of into) s = resolve(step === '[]' ? s.items! : s.properties![step]!);
    return s;
  };

  for (const [name, where] of Object.entries(WHERE))
    it(`${name} = ${where[0].toUpperCase()} ${where[1]} ${where.slice(2).join(' ')}`, () => {
      const fields = widget.get(name);
      expect(fields, `interface ${name} in api-types.ts`).toBeDefined();
      const schema = schemaAt(where);
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const fromSchema = Object.fromEntries(
        Object.entries(props).map(([key, s]) => [
          key,
          {
            optional: !required.has(key),
            nullable: (resolve(s).anyOf ?? []).some((a) => a.type === 'null') || s.type === 'null',
          },
        ]),
      );
      expect(Object.fromEntries(fields!)).toEqual(fromSchema);
    });

  it('covers every interface the widget reads from a JSON answer', () => {
    // DocumentEvent is an SSE payload (the NOTIFY trigger's JSON), not a JSON response.
    expect([...widget.keys()].filter((n) => !(n in WHERE)).sort()).toEqual(['DocumentEvent']);
  });
});
