/**
 * Follow-up questions through the chat route: the last message "Which organ produces it?" names
 * nothing; the conversation does. With the default `followUps: rules` the retrieval query
 * carries the earlier question, so the context is the document the conversation is about, not
 * one of the other documents about organs that produce something.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../../test/support/gateway.js';
import { messageText } from '../src/retrieval/context.js';
import { REWRITE_PROMPT } from '../src/retrieval/condense.js';
import { startRag, type RagEnv } from './rag-support.js';

type Source = { source: { name?: string }; document: string[] };
type Upstream = { messages: { role: string; content: unknown }[] };

let env: RagEnv;
let dir: string;

const conversation = (last: string) => [
  { role: 'user', content: 'How does hepcidin control iron absorption?' },
  { role: 'assistant', content: 'It blocks iron export from gut cells.' },
  { role: 'user', content: last },
];

const chat = (model: string, messages: object[]) =>
  env.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: bearer(env.adminToken),
    payload: { model, stream: false, messages },
  });

/** The text of the passages the answer was given (its sources), in order. */
const contextOf = (body: { sources: Source[] }) => body.sources.flatMap((s) => s.document).join('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rattg-follow-up-'));
  await cp(new URL('../../pipelines/default.yaml', import.meta.url), join(dir, 'default.yaml'));
  const pipeline = (id: string, lines: string) =>
    writeFile(
      join(dir, `${id}.yaml`),
      `id: ${id}\nname: ${id}\nretrieval:\n  topK: 1\n  minScore: 0\n${lines}\nsystemPrompt: "Passages:\\n{{context}}"\n`,
    );
  await pipeline('follow-rules', '');
  await pipeline('follow-off', '  followUps: "off"');
  await pipeline('follow-llm', '  followUps: llm\n  followUpTimeoutMs: 300');
  env = await startRag({ PIPELINES_DIR: dir });
  await env.addDocument({
    ownerId: null,
    access: 'org',
    filename: 'hepcidin.txt',
    chunks: [
      'Hepcidin is a peptide hormone produced by the liver. Hepcidin controls how much iron the gut absorbs, and hepcidin levels rise with inflammation.',
    ],
  });
  await env.addDocument({
    ownerId: null,
    access: 'org',
    filename: 'insulin.txt',
    chunks: ['Insulin is produced by the pancreas, the organ that keeps blood sugar in range.'],
  });
  // More organs that produce things: "organ" and "produce" say little, "hepcidin" a lot.
  await env.addDocument({
    ownerId: null,
    access: 'org',
    filename: 'thyroid.txt',
    chunks: ['The thyroid is an organ in the neck; it produces the hormones that set the metabolic rate.'],
  });
  await env.addDocument({
    ownerId: null,
    access: 'org',
    filename: 'skin.txt',
    chunks: ['The skin is the largest organ of the body and produces vitamin D in sunlight.'],
  });
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('/v1 follow-up questions', () => {
  it('a follow-up that says "it" retrieves the document of the earlier question (default: rules)', async () => {
    const res = await chat('follow-rules', conversation('Which organ produces it?'));
    expect(res.statusCode, res.body).toBe(200);
    expect(contextOf(res.json())).toContain('Hepcidin is a peptide hormone');
    expect(contextOf(res.json())).not.toMatch(/Insulin|thyroid|skin/);
  });

  it('with followUps off the same follow-up is searched alone and finds another organ', async () => {
    const res = await chat('follow-off', conversation('Which organ produces it?'));
    expect(res.statusCode, res.body).toBe(200);
    expect(contextOf(res.json())).toMatch(/organ/);
    expect(contextOf(res.json())).not.toContain('Hepcidin');
  });

  it('a question that stands on its own is searched as written, whatever came before', async () => {
    const res = await chat('follow-rules', conversation('Which organ produces insulin?'));
    expect(contextOf(res.json())).toContain('Insulin is produced by the pancreas');
  });
});

// These read and script what the chat upstream answers, which only the stand-in can do.
describe.skipIf(Boolean(process.env.OLLAMA_URL))(
  '/v1 follow-ups rewritten by the chat model (stand-in only)',
  () => {
    const rewriteRequests = () =>
      (env.ollama.standin!.chatRequests as Upstream[]).filter(
        (r) => messageText(r.messages[0]?.content) === REWRITE_PROMPT,
      );

    it('llm: the chat model rewrites the follow-up and its query is searched', async () => {
      const standin = env.ollama.standin!;
      const before = rewriteRequests().length;
      // The stand-in answers every chat request with this text: the rewrite, then the answer.
      standin.chat = { tokens: ['iron hormone made by the liver'], intervalMs: 0 };
      const res = await chat('follow-llm', conversation('Which organ produces it?'));
      expect(res.statusCode, res.body).toBe(200);
      const asked = rewriteRequests().slice(before);
      expect(asked).toHaveLength(1);
      expect(messageText(asked[0]!.messages[1]!.content)).toContain(
        'user: How does hepcidin control iron absorption?',
      );
      expect(contextOf(res.json())).toContain('Hepcidin is a peptide hormone');
    });

    it('llm: a rewrite slower than its budget falls back to the rules and the answer still comes', async () => {
      const standin = env.ollama.standin!;
      // 2 s per token: far over the pipeline's 300 ms budget.
      standin.chat = { tokens: ['insulin pancreas'], intervalMs: 2000 };
      const started = performance.now();
      const res = await chat('follow-llm', conversation('Which organ produces it?'));
      expect(res.statusCode, res.body).toBe(200);
      // The rules' query (with "hepcidin"), not the model's late "insulin pancreas".
      expect(contextOf(res.json())).toContain('Hepcidin is a peptide hormone');
      // Budget (0.3 s) + the answer itself (2 s), not two full model answers.
      expect(performance.now() - started).toBeLessThan(4000);
      standin.chat = { tokens: ['The', ' answer', '.'], intervalMs: 0 };
    });
  },
);
