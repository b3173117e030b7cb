import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type {} from '../src/plugins/app/pipelines.js';
import { pipelineJsonSchema } from '../src/lib/pipeline-schema.js';
import { bearer, startGateway, login, ADMIN } from '../../test/support/gateway.js';

const ROOT = new URL('../../', import.meta.url);

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

describe('pipelines', () => {
  it('the shipped pipeline.schema.json is the schema the gateway validates with', async () => {
    const shipped = JSON.parse(await readFile(new URL('pipelines/pipeline.schema.json', ROOT), 'utf8'));
    expect(shipped).toEqual(pipelineJsonSchema());
  });

  describe('the shipped folder', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await startGateway({
        PIPELINES_DIR: new URL('pipelines', ROOT).pathname,
        CHAT_MODEL: 'qwen3:8b',
      });
    });

    it('publishes the default pipeline as model "rattgllm" (what Open WebUI DEFAULT_MODELS names)', async () => {
      expect(app.pipelines.problems).toEqual([]);
      const p = app.pipelines.get('rattgllm')!;
      expect(p).toMatchObject({ file: 'default.yaml', chatModel: 'qwen3:8b' });
      expect(p.systemPrompt).toContain('{{context}}');
      expect(p.retrieval.topK).toBeGreaterThan(0);
      const token = await login(app, ADMIN.username, ADMIN.password);
      const res = await app.inject({ method: 'GET', url: '/v1/models', headers: bearer(token) });
      expect(res.json().data.map((m: { id: string; owned_by: string }) => [m.id, m.owned_by])).toEqual([
        ['rattgllm', 'rattgllm'],
      ]);
    });
  });

  describe('a folder being edited', () => {
    let app: FastifyInstance;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rattg-pipes-'));
      await writeFile(
        join(dir, 'a.yaml'),
        'id: alpha\nname: Alpha\nsystemPrompt: "ctx {{context}}"\nretrieval:\n  topK: 3\n  tags: [hr]\n',
      );
      await writeFile(
        join(dir, 'b.json'),
        JSON.stringify({ id: 'beta', name: 'Beta', chatModel: 'mistral:7b', systemPrompt: '{{context}}' }),
      );
      await writeFile(join(dir, 'broken.yaml'), 'id: [unclosed\n');
      await writeFile(
        join(dir, 'no-placeholder.yaml'),
        'id: gamma\nname: G\nsystemPrompt: "no context here"\n',
      );
      await writeFile(
        join(dir, 'extra.json'),
        JSON.stringify({ id: 'delta', name: 'D', systemPrompt: '{{context}}', topk: 3 }),
      );
      await writeFile(join(dir, 'dup.yaml'), 'id: alpha\nname: Again\nsystemPrompt: "{{context}}"\n');
      await writeFile(join(dir, 'notes.txt'), 'not a pipeline');
      app = await startGateway({ PIPELINES_DIR: dir, CHAT_MODEL: 'llama3.1:8b' });
    });

    it('loads the valid files with defaults, skips and reports the invalid ones', () => {
      expect(
        app.pipelines
          .list()
          .map((p) => p.id)
          .sort(),
      ).toEqual(['alpha', 'beta']);
      expect(app.pipelines.get('alpha')).toMatchObject({
        chatModel: 'llama3.1:8b',
        description: '',
        retrieval: { topK: 3, minScore: 0, tags: ['hr'], maxContextTokens: 3000 },
      });
      expect(app.pipelines.get('beta')!.chatModel).toBe('mistral:7b');
      const problems = app.pipelines.problems.join('\n');
      expect(problems).toMatch(/broken\.yaml: not valid YAML/);
      expect(problems).toMatch(/no-placeholder\.yaml: \/systemPrompt must match pattern/);
      expect(problems).toMatch(/extra\.json: .*additional properties \(topk\)/);
      expect(problems).toMatch(/dup\.yaml: id "alpha" is already used by a\.yaml/);
    });

    it('picks up added, changed and removed files without a restart', async () => {
      await writeFile(join(dir, 'c.yaml'), 'id: gamma2\nname: Gamma\nsystemPrompt: "{{context}}"\n');
      await until(() => app.pipelines.get('gamma2') !== undefined);
      await writeFile(
        join(dir, 'b.json'),
        JSON.stringify({ id: 'beta', name: 'Beta v2', systemPrompt: '{{context}}' }),
      );
      await until(() => app.pipelines.get('beta')?.name === 'Beta v2');
      await rm(join(dir, 'c.yaml'));
      await until(() => app.pipelines.get('gamma2') === undefined);
      // An edit that breaks a file: it is skipped, the others keep serving.
      await writeFile(join(dir, 'b.json'), '{"id": "beta", ');
      await until(() => app.pipelines.get('beta') === undefined);
      expect(app.pipelines.get('alpha')).toBeDefined();
      expect(app.pipelines.problems.join('\n')).toMatch(/b\.json: not valid JSON/);
    });
  });

  it('a missing folder is reported and serves no pipelines', async () => {
    const app = await startGateway({ PIPELINES_DIR: join(tmpdir(), 'rattg-no-such-folder-xyz') });
    expect(app.pipelines.list()).toEqual([]);
    expect(app.pipelines.problems[0]).toMatch(/ENOENT/);
  });
});
