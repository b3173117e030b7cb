/**
 * The ACL leak matrix: users × access modes × {search results, chat context sent upstream,
 * sources (non-stream field and stream chunks)}. Every passage carries a marker word; each
 * surface must show exactly the markers of the documents the caller may read, and nothing else.
 * Includes stale index payloads (Qdrant says readable, Postgres says not) and deleted documents.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createUser } from '../../test/support/gateway.js';
import { signHs256 } from '../src/lib/hs256.js';
import { OWUI_JWT_SECRET, OWUI_KEY, parseSse, startRag, type RagEnv } from './rag-support.js';

const MARKERS = [
  'APRIV',
  'AORG',
  'AENG',
  'CSALES',
  'CPRIV',
  'DORG',
  'DPRIV',
  'DENG',
  'STALE',
  'DELETED',
  'STALEGRP',
] as const;
type Marker = (typeof MARKERS)[number];

const QUERY = 'quarterly budget forecast';

function markersIn(text: string): Marker[] {
  return MARKERS.filter((m) => new RegExp(`\\bmarker${m}\\b`).test(text)).sort();
}

describe('ACL leak matrix', () => {
  let env: RagEnv;
  const callers: Record<string, { headers: Record<string, string>; expected: Marker[] }> = {};

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rattg-pipelines-'));
    await writeFile(
      join(dir, 'wide.yaml'),
      [
        'id: wide',
        'name: Wide',
        'retrieval: { topK: 30, minScore: 0, maxContextTokens: 20000 }',
        'systemPrompt: "Passages:\\n{{context}}"',
      ].join('\n'),
    );
    env = await startRag({ PIPELINES_DIR: dir });
    const { app, adminToken } = env;
    const alice = await createUser(app, adminToken, {
      username: 'alice',
      groups: ['eng'],
      email: 'alice@example.com',
    });
    const bob = await createUser(app, adminToken, {
      username: 'bob',
      groups: ['eng'],
      email: 'bob@example.com',
    });
    const carol = await createUser(app, adminToken, {
      username: 'carol',
      groups: ['sales'],
      email: 'carol@example.com',
    });
    const dave = await createUser(app, adminToken, { username: 'dave', email: 'dave@example.com' });

    const doc = (m: Marker, ownerId: string | null, access: string, extra: object = {}) =>
      env.addDocument({
        ownerId,
        access,
        filename: `${m.toLowerCase()}.txt`,
        chunks: [
          `The ${QUERY} of this unit is in this passage, markerP1 marker${m}.`,
          `Second ${QUERY} part marker${m}.`,
        ],
        ...extra,
      });
    await doc('APRIV', alice.id, 'private');
    await doc('AORG', alice.id, 'org');
    await doc('AENG', alice.id, 'group:eng');
    await doc('CSALES', carol.id, 'group:sales');
    await doc('CPRIV', carol.id, 'private');
    await doc('DORG', null, 'org');
    await doc('DPRIV', null, 'private');
    await doc('DENG', null, 'group:eng');
    // Postgres: private; the index still says org (access changed, payload not yet rewritten).
    await doc('STALE', alice.id, 'private', { stalePrincipals: ['org', `user:${alice.id}`] });
    // Postgres: carol's private; the index says group eng.
    await doc('STALEGRP', carol.id, 'private', { stalePrincipals: ['group:eng'] });
    // Deleted in Postgres, points not yet removed.
    await doc('DELETED', alice.id, 'org', { status: 'deleted' });

    const owui = (claims: Record<string, unknown>) => ({
      ...bearer(OWUI_KEY),
      'x-openwebui-user-jwt': signHs256(
        {
          sub: 'owui-1',
          name: 'x',
          role: 'user',
          iss: 'open-webui',
          exp: Math.floor(Date.now() / 1000) + 300,
          ...claims,
        },
        OWUI_JWT_SECRET,
      ),
    });

    callers.alice = {
      headers: bearer(alice.token),
      expected: ['AENG', 'AORG', 'APRIV', 'DENG', 'DORG', 'STALE'],
    };
    callers.bob = { headers: bearer(bob.token), expected: ['AENG', 'AORG', 'DENG', 'DORG'] };
    callers.carol = { headers: bearer(carol.token), expected: ['AORG', 'CPRIV', 'CSALES', 'DORG'] };
    callers.dave = { headers: bearer(dave.token), expected: ['AORG', 'DORG'] };
    // Admins read everything in Postgres, but retrieval uses their own principals (user, org,
    // groups): their chat is not filled with other people's private files.
    callers.admin = { headers: bearer(adminToken), expected: ['AORG', 'DORG', 'STALE'] };
    callers['openwebui as bob (signed)'] = {
      headers: owui({ email: 'BOB@Example.com' }),
      expected: callers.bob.expected,
    };
    callers['openwebui as carol (signed)'] = {
      headers: owui({ email: 'carol@example.com' }),
      expected: callers.carol.expected,
    };
    callers['openwebui, unknown email'] = {
      headers: owui({ email: 'eve@example.com' }),
      expected: ['AORG', 'DORG'],
    };
    callers['openwebui, no header'] = { headers: bearer(OWUI_KEY), expected: ['AORG', 'DORG'] };
    callers['openwebui, forged plain headers'] = {
      headers: {
        ...bearer(OWUI_KEY),
        'x-openwebui-user-email': 'alice@example.com',
        'x-openwebui-user-id': alice.id,
      },
      expected: ['AORG', 'DORG'],
    };
    callers['openwebui, header signed with the wrong secret'] = {
      headers: {
        ...bearer(OWUI_KEY),
        'x-openwebui-user-jwt': signHs256(
          { email: 'alice@example.com', iss: 'open-webui', exp: Math.floor(Date.now() / 1000) + 300 },
          'not-the-secret-0123456789',
        ),
      },
      expected: ['AORG', 'DORG'],
    };
  });

  const names = [
    'alice',
    'bob',
    'carol',
    'dave',
    'admin',
    'openwebui as bob (signed)',
    'openwebui as carol (signed)',
    'openwebui, unknown email',
    'openwebui, no header',
    'openwebui, forged plain headers',
    'openwebui, header signed with the wrong secret',
  ];

  const people = names.filter((n) => !n.startsWith('openwebui'));
  it.each(people)('%s: search results', async (name) => {
    const c = callers[name]!;
    const res = await env.app.inject({
      method: 'POST',
      url: '/search',
      headers: c.headers,
      payload: { query: QUERY, limit: 50 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(markersIn(res.body)).toEqual(c.expected);
  });

  // Open WebUI's service key speaks /v1 only: search is refused whoever the header names.
  it.each(names.filter((n) => !people.includes(n)))('%s: no search at all', async (name) => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/search',
      headers: callers[name]!.headers,
      payload: { query: QUERY, limit: 50 },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'SERVICE_KEY_V1_ONLY' });
    expect(markersIn(res.body)).toEqual([]);
  });

  it.each(names)('%s: chat context upstream and sources (non-stream)', async (name) => {
    const c = callers[name]!;
    const standin = env.ollama.standin!;
    const before = standin.chatRequests.length;
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: c.headers,
      payload: { model: 'wide', messages: [{ role: 'user', content: QUERY }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(standin.chatRequests.length).toBe(before + 1);
    expect(markersIn(JSON.stringify(standin.chatRequests.at(-1)))).toEqual(c.expected);
    expect(markersIn(JSON.stringify(res.json().sources))).toEqual(c.expected);
    expect(markersIn(res.body)).toEqual(c.expected);
  });

  it.each(names)('%s: chat context upstream and source chunks (stream)', async (name) => {
    const c = callers[name]!;
    const standin = env.ollama.standin!;
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: c.headers,
      payload: { model: 'wide', stream: true, messages: [{ role: 'user', content: QUERY }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(markersIn(JSON.stringify(standin.chatRequests.at(-1)))).toEqual(c.expected);
    const sources = parseSse(res.body).filter(
      (e) =>
        typeof e === 'object' && e !== null && (e as { event?: { type?: string } }).event?.type === 'source',
    );
    expect(markersIn(JSON.stringify(sources))).toEqual(c.expected);
    expect(markersIn(res.body)).toEqual(c.expected);
  });
});
