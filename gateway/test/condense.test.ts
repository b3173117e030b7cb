/**
 * The follow-up condensation on its own: which messages refer back, what query the rules build,
 * and the LLM rewrite with its time budget and fallbacks (a rewrite function stands in for the
 * chat upstream; the route test sends it through the real client).
 */
import { describe, expect, it } from 'vitest';
import {
  condenseByRules,
  REWRITE_PROMPT,
  refersBack,
  retrievalQuery,
  type RewriteFn,
} from '../src/retrieval/condense.js';

const user = (content: unknown) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });

describe('refersBack', () => {
  it.each([
    'What organ produces it?',
    'and the second one?',
    'What about its dosage?',
    'How are they transmitted?',
    'Is this dose safe for children?',
    'And in children?',
    'why?',
  ])('"%s" refers back', (text) => expect(refersBack(text)).toBe(true));

  it.each([
    'What is hepcidin?',
    'Which organ produces hepcidin?',
    'What is the incubation period of MERS-CoV?',
    'How many nucleotides does bovine coronavirus contain?',
    '',
  ])('"%s" stands on its own', (text) => expect(refersBack(text)).toBe(false));
});

describe('condenseByRules', () => {
  it('adds the earlier question the follow-up leans on, the follow-up first', () => {
    const q = condenseByRules([
      user('What is hepcidin?'),
      assistant('A peptide hormone that regulates iron.'),
      user('What organ produces it?'),
    ]);
    expect(q).toBe('What organ produces it?\nWhat is hepcidin?');
  });

  it('walks back through a chain of follow-ups to the turn that names the subject, and no further', () => {
    const q = condenseByRules([
      user('How do I water tomatoes?'),
      user('What is MERS-CoV?'),
      user('How is it transmitted?'),
      user('And its incubation period?'),
    ]);
    expect(q).toBe('And its incubation period?\nHow is it transmitted?\nWhat is MERS-CoV?');
  });

  it('leaves a question that stands on its own, and a first question, as written', () => {
    expect(condenseByRules([user('What is hepcidin?'), user('Which organ produces insulin?')])).toBe(
      'Which organ produces insulin?',
    );
    expect(condenseByRules([user('What organ produces it?')])).toBe('What organ produces it?');
  });

  it('reads multi-part content and bounds what earlier turns add', () => {
    const long = `Tell me about hepcidin ${'and iron regulation '.repeat(100)}`;
    const q = condenseByRules([
      user([{ type: 'text', text: long }]),
      user([{ type: 'text', text: 'and its dose?' }]),
    ]);
    expect(q.startsWith('and its dose?\nTell me about hepcidin')).toBe(true);
    expect(q.length).toBeLessThanOrEqual('and its dose?\n'.length + 600);
  });
});

describe('retrievalQuery', () => {
  const conversation = [
    user('What is hepcidin?'),
    assistant('An iron hormone.'),
    user('What organ produces it?'),
  ];

  it('off: the last message alone; rules: condensed', async () => {
    expect(await retrievalQuery(conversation, { mode: 'off' })).toEqual({
      query: 'What organ produces it?',
      via: 'last',
    });
    expect(await retrievalQuery(conversation, { mode: 'rules' })).toEqual({
      query: 'What organ produces it?\nWhat is hepcidin?',
      via: 'rules',
    });
  });

  it('llm: the model is asked with the conversation, its one-line answer is the query', async () => {
    let asked: Parameters<RewriteFn>[0] | undefined;
    const rewrite: RewriteFn = async (body) => {
      asked = body;
      return 'Query: "Which organ produces hepcidin?"\nBecause the user asks about hepcidin.';
    };
    const r = await retrievalQuery(conversation, { mode: 'llm', rewrite });
    expect(r).toEqual({ query: 'Which organ produces hepcidin?', via: 'llm' });
    expect(asked!.messages[0]).toEqual({ role: 'system', content: REWRITE_PROMPT });
    expect(asked!.messages[1]!.content).toContain('user: What is hepcidin?');
    expect(asked!.messages[1]!.content).toContain('assistant: An iron hormone.');
  });

  it('llm: no call when the message stands on its own', async () => {
    let calls = 0;
    const rewrite: RewriteFn = async () => {
      calls++;
      return 'x';
    };
    const r = await retrievalQuery([user('What is hepcidin?'), user('Which organ makes insulin?')], {
      mode: 'llm',
      rewrite,
    });
    expect(r.via).toBe('last');
    expect(calls).toBe(0);
  });

  it('llm: a rewrite over its time budget, a failed one and an empty one fall back to the rules', async () => {
    const reasons: string[] = [];
    const onFallback = (reason: string) => reasons.push(reason);
    const slow: RewriteFn = (_body, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const started = performance.now();
    const late = await retrievalQuery(conversation, {
      mode: 'llm',
      rewrite: slow,
      timeoutMs: 150,
      onFallback,
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(late.via).toBe('rules');
    const failed = await retrievalQuery(conversation, {
      mode: 'llm',
      rewrite: () => Promise.reject(new Error('upstream 500')),
      onFallback,
    });
    expect(failed.via).toBe('rules');
    const empty = await retrievalQuery(conversation, { mode: 'llm', rewrite: async () => '  ', onFallback });
    expect(empty).toEqual({ query: 'What organ produces it?\nWhat is hepcidin?', via: 'rules' });
    expect(reasons).toEqual([
      'the rewrite took longer than its time budget',
      'Error: upstream 500',
      'the chat model gave no usable query',
    ]);
  });

  it('llm: the client going away aborts the request instead of falling back', async () => {
    const client = new AbortController();
    const slow: RewriteFn = (_body, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const pending = retrievalQuery(conversation, { mode: 'llm', rewrite: slow, signal: client.signal });
    client.abort(new Error('client closed'));
    await expect(pending).rejects.toThrow('client closed');
  });
});
