import fp from 'fastify-plugin';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import AjvModule from 'ajv';
import { watch, type FSWatcher } from 'chokidar';
import { parse as parseYaml } from 'yaml';
import { PipelineSchema, type Pipeline, type PipelineFile } from '../../lib/pipeline-schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    pipelines: PipelineRegistry;
  }
}

export interface PipelineRegistry {
  list(): Pipeline[];
  get(id: string): Pipeline | undefined;
  /** Re-read the folder now (the watcher calls this; tests may too). */
  reload(): Promise<void>;
  /** Problems of the last load, one line per skipped file. */
  readonly problems: readonly string[];
}

const EXTENSIONS = new Set(['.json', '.yaml', '.yml']);
const RELOAD_DEBOUNCE_MS = 100;

const Ajv = AjvModule.default;
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile<PipelineFile>(PipelineSchema);

function describeErrors(): string {
  return (validate.errors ?? [])
    .map(
      (e) =>
        `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    )
    .join('; ');
}

/**
 * Loads `PIPELINES_DIR/*.{json,yaml,yml}` (each one pipeline, checked against the schema) and
 * re-reads the folder when a file changes. A broken file is logged and skipped; the others keep
 * serving, and the last good set is never replaced by an empty one because of one typo.
 */
export default fp(
  async (fastify) => {
    const dir = resolve(fastify.config.PIPELINES_DIR);
    const log = fastify.log.child({ component: 'pipelines' });
    let byId = new Map<string, Pipeline>();
    let problems: string[] = [];

    async function loadFile(file: string): Promise<Pipeline> {
      const text = await readFile(file, 'utf8');
      let raw: unknown;
      try {
        raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
      } catch (err) {
        throw new Error(
          `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
        );
      }
      if (!validate(raw)) throw new Error(describeErrors());
      const p = raw;
      return {
        id: p.id,
        name: p.name,
        description: p.description ?? '',
        chatModel: p.chatModel ?? fastify.config.CHAT_MODEL,
        // ajv fills the schema's defaults; the fallbacks only satisfy the type checker.
        retrieval: {
          topK: p.retrieval?.topK ?? 6,
          minScore: p.retrieval?.minScore ?? 0,
          tags: p.retrieval?.tags ?? [],
          maxContextTokens: p.retrieval?.maxContextTokens ?? 3000,
          followUps: p.retrieval?.followUps ?? 'rules',
          followUpTimeoutMs: p.retrieval?.followUpTimeoutMs ?? 2000,
        },
        forwardTools: p.forwardTools ?? false,
        systemPrompt: p.systemPrompt,
        file: basename(file),
        created: Math.floor(Date.now() / 1000),
      };
    }

    async function reload(): Promise<void> {
      let names: string[];
      try {
        names = (await readdir(dir))
          .filter((n) => EXTENSIONS.has(extname(n)) && !n.endsWith('.schema.json'))
          .sort();
      } catch (err) {
        problems = [`${dir}: ${(err as Error).message}`];
        log.error({ dir, err }, 'cannot read the pipelines folder; /v1/models lists no pipelines');
        byId = new Map();
        return;
      }
      const next = new Map<string, Pipeline>();
      const found: string[] = [];
      for (const name of names) {
        try {
          const p = await loadFile(join(dir, name));
          const previous = byId.get(p.id);
          // Keep `created` stable across reloads of an unchanged id, so clients do not see a new model.
          if (previous) p.created = previous.created;
          const clash = next.get(p.id);
          if (clash) throw new Error(`id "${p.id}" is already used by ${clash.file}`);
          next.set(p.id, p);
        } catch (err) {
          found.push(`${name}: ${(err as Error).message}`);
          log.error(
            { file: join(dir, name), problem: (err as Error).message },
            'invalid pipeline file skipped',
          );
        }
      }
      byId = next;
      problems = found;
      log.info({ dir, pipelines: [...next.keys()] }, 'pipelines loaded');
    }

    await reload();

    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let reloading: Promise<void> = Promise.resolve();
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        reloading = reloading.then(reload, reload);
      }, RELOAD_DEBOUNCE_MS);
    };
    watcher = watch(dir, { ignoreInitial: true, depth: 0 });
    watcher.on('all', (_event, path) => {
      if (EXTENSIONS.has(extname(path))) schedule();
    });
    watcher.on('error', (err) => log.warn({ err }, 'pipelines watcher error'));

    fastify.addHook('onClose', async () => {
      clearTimeout(timer);
      await watcher?.close();
      watcher = undefined;
      await reloading;
    });

    fastify.decorate('pipelines', {
      list: () => [...byId.values()],
      get: (id: string) => byId.get(id),
      reload: () => (reloading = reloading.then(reload, reload)),
      get problems() {
        return problems;
      },
    } satisfies PipelineRegistry);
  },
  { name: 'pipelines', dependencies: ['config'] },
);
