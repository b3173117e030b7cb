/**
 * What a pipeline model hands the LLM must fit it: Open WebUI's built-in tools are not forwarded
 * (unless the pipeline opts in), the context length is the model's real one (Ollama /api/show,
 * cached), and a long conversation loses its oldest turns while the system prompt and every
 * passage stay whole.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHs256 } from '../src/lib/hs256.js';
import { answerTokens, conversationTokens } from '../src/lib/prompt-budget.js';
import { messageText } from '../src/retrieval/context.js';
import { bearer, createUser } from '../../test/support/gateway.js';
import { OWUI_JWT_SECRET, OWUI_KEY, startRag, type RagEnv } from './rag-support.js';

type Msg = { role: string; content: unknown };
type Upstream = Record<string, unknown> & { messages: Msg[] };
type Source = { source: { url?: string }; document: string[] };

/** 36 function tools shaped like Open WebUI's built-ins (about 6.5k tokens together). */
const owuiTools = Array.from({ length: 36 }, (_, i) => ({
  type: 'function',
  function: {
    name: `builtin_tool_${i}`,
    description:
      `Built-in Open WebUI tool number ${i}: searches, fetches, stores or edits something on behalf of the user when asked to. `.repeat(
        3,
      ),
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'What to look for, in the words of the user request.' },
        limit: { type: 'integer', description: 'How many results to return at most.' },
        options: { type: 'object', description: 'Further options of this tool, all optional.' },
      },
      required: ['query'],
    },
  },
}));

/** A conversation of `turns` question/answer pairs, each long, the oldest first. */
function history(turns: number): Msg[] {
  return Array.from({ length: turns }, (_, i) => [
    {
      role: 'user',
      content: `Earlier question ${i}: ${'tell me more about the office plants. '.repeat(12)}`,
    },
    {
      role: 'assistant',
      content: `Earlier answer ${i}: ${'the plants are watered on Mondays. '.repeat(14)}`,
    },
  ]).flat();
}

// These tests read what reached the LLM, which only the stand-in records.
describe.skipIf(Boolean(process.env.OLLAMA_URL))(
  '/v1 prompt fits the model (stand-in only: reads upstream requests)',
  () => {
    let env: RagEnv;
    let dir: string;
    const upstream = () => env.ollama.standin!.chatRequests.at(-1) as Upstream;
    const owuiHeaders = () => ({
      ...bearer(OWUI_KEY),
      'x-openwebui-user-jwt': signHs256(
        {
          sub: 'owui-7',
          email: 'dana@example.com',
          name: 'Dana',
          role: 'user',
          iss: 'open-webui',
          exp: Math.floor(Date.now() / 1000) + 300,
        },
        OWUI_JWT_SECRET,
      ),
    });
    const chat = (payload: object) =>
      env.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: owuiHeaders(), payload });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rattg-pipelines-'));
      await cp(new URL('../../pipelines/default.yaml', import.meta.url), join(dir, 'default.yaml'));
      const extra = (id: string, lines: string) =>
        writeFile(
          join(dir, `${id}.yaml`),
          `id: ${id}\nname: ${id}\n${lines}\nretrieval:\n  topK: 6\nsystemPrompt: "Passages:\\n{{context}}"\n`,
        );
      await extra('with-tools', 'forwardTools: true');
      await extra('big-context', 'chatModel: big-ctx:latest');
      env = await startRag({ PIPELINES_DIR: dir });
      env.ollama.standin!.addModel('big-ctx:latest');
      env.ollama.standin!.parameters.set('big-ctx:latest', { num_ctx: 32768, stop: '<|eot_id|>' });
      const dana = await createUser(env.app, env.adminToken, { username: 'dana', email: 'dana@example.com' });
      await env.addDocument({
        ownerId: dana.id,
        access: 'private',
        filename: 'plants.md',
        chunks: Array.from(
          { length: 6 },
          (_, i) =>
            `Office plants section ${i}: the ficus and the office plants get water on day ${i + 1}. ${'Plant care notes. '.repeat(15)}`,
        ),
      });
    }, 60_000);
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('an Open WebUI request with 36 tools and a long history arrives without tools, with all passages, within the budget', async () => {
      const question = { role: 'user', content: 'When do the office plants get water?' };
      const res = await chat({
        model: 'rattgllm',
        stream: false,
        tools: owuiTools,
        tool_choice: 'auto',
        messages: [{ role: 'system', content: 'Open WebUI user system prompt.' }, ...history(20), question],
      });
      expect(res.statusCode, res.body).toBe(200);
      const up = upstream();
      for (const field of ['tools', 'tool_choice', 'functions', 'function_call'])
        expect(up).not.toHaveProperty(field);

      // Every passage the answer cites is in the system prompt, whole.
      const sources = res.json().sources as Source[];
      const passages = sources.flatMap((s) => s.document);
      expect(passages).toHaveLength(6);
      const system = messageText(up.messages[0]!.content);
      expect(up.messages[0]!.role).toBe('system');
      for (const p of passages) expect(system).toContain(p);
      // The reader is known, so every chip links (with a token made for Dana).
      for (const s of sources) expect(s.source.url).toMatch(/\?token=/);

      // Within Ollama's default 4096 tokens (the stand-in's llama3.1 sets no num_ctx), answer included.
      const total = conversationTokens(up.messages) + answerTokens(up, 4096);
      expect(total).toBeLessThanOrEqual(4096);
      // The same bound by raw size (3 characters a token), independent of the gateway's estimate.
      const chars = up.messages.reduce((n, m) => n + messageText(m.content).length, 0);
      expect(chars / 3).toBeLessThan(4096);

      // The oldest turns went first; the newest turn, the client's system prompt and the question stayed.
      const texts = up.messages.map((m) => messageText(m.content));
      expect(texts).toContain('Open WebUI user system prompt.');
      expect(texts.at(-1)).toBe(question.content);
      expect(texts.some((t) => t.startsWith('Earlier answer 19:'))).toBe(true);
      expect(texts.some((t) => t.startsWith('Earlier question 0:'))).toBe(false);
      const kept = texts.filter((t) => t.startsWith('Earlier')).length;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(40);
    });

    it('a pipeline that opts in forwards the tools (and budgets for them)', async () => {
      // A few tools: all 36 alone would not fit a 4k context.
      const tools = owuiTools.slice(0, 3);
      const res = await chat({
        model: 'with-tools',
        tools,
        tool_choice: 'auto',
        messages: [...history(20), { role: 'user', content: 'When do the office plants get water?' }],
      });
      expect(res.statusCode, res.body).toBe(200);
      const up = upstream();
      expect(up.tools).toEqual(tools);
      expect(up.tool_choice).toBe('auto');
      const toolCost = Math.ceil(JSON.stringify([tools, 'auto']).length / 3);
      expect(conversationTokens(up.messages) + toolCost + answerTokens(up, 4096)).toBeLessThanOrEqual(4096);
      // The tools' room came out of the conversation's: fewer old turns than without tools.
      expect(up.messages.length).toBeGreaterThan(2);
      expect(up.messages.length).toBeLessThan(1 + 40 + 1);
    });

    it("the budget is the model's num_ctx from /api/show, asked once and cached", async () => {
      const standin = env.ollama.standin!;
      const before = standin.showCalls.filter((m) => m === 'big-ctx:latest').length;
      for (let i = 0; i < 2; i++) {
        const res = await chat({
          model: 'big-context',
          messages: [...history(20), { role: 'user', content: 'When do the office plants get water?' }],
        });
        expect(res.statusCode, res.body).toBe(200);
        // 32k tokens hold the whole conversation: nothing is trimmed.
        expect(upstream().messages).toHaveLength(1 + 40 + 1);
        expect(upstream().model).toBe('big-ctx:latest');
      }
      expect(standin.showCalls.filter((m) => m === 'big-ctx:latest').length - before).toBe(1);
    });
  },
);
