import Fastify, { type FastifyInstance, type FastifySchemaCompiler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import AjvModule, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import { logDestination, loggerOptions, type Config, type DestinationStream } from '@rattgllm/core';
import app from './app.js';
import { RequestLog, serializeRequest } from './lib/request-log.js';

// ajv is CommonJS; its class is the module's default export.
const Ajv = AjvModule.default;

function makeAjv(options: Options) {
  const ajv = new Ajv({ removeAdditional: false, useDefaults: true, allErrors: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

export interface BuildOptions {
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: DestinationStream;
}

/** A ready-to-listen gateway. Tests call this and use `app.inject`. */
export async function buildApp(config: Config, { logStream }: BuildOptions = {}): Promise<FastifyInstance> {
  const fastify = Fastify({
    logger: {
      ...loggerOptions(config, 'gateway'),
      serializers: { req: serializeRequest },
      stream: logStream ?? logDestination(config),
    },
    logController: new RequestLog(),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Query strings and path parameters arrive as text, so they are coerced ("10" → 10); JSON
  // bodies are not: `{"username": ["admin"]}` is a wrong type and gets a 400.
  const bodyAjv = makeAjv({ coerceTypes: false });
  const textAjv = makeAjv({ coerceTypes: 'array' });
  const compile: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;
  fastify.setValidatorCompiler(compile);

  await fastify.register(app, { config });
  await fastify.ready();
  return fastify;
}
