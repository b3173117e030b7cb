import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHs256Verifier, signHs256 } from '../src/lib/hs256.js';

/**
 * The Open WebUI user-header verifier accepts and refuses the same tokens as the hand-written
 * verifier it replaced (fast-jwt now): tokens are made here with node:crypto, independent of the
 * library, including the attacks (alg none, another algorithm, a tampered payload).
 */
const SECRET = 'owui-jwt-secret-0123456789abcdef';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hmac = (alg: 'sha256' | 'sha384' | 'sha512', input: string, secret = SECRET) =>
  createHmac(alg, secret).update(input).digest('base64url');
function token(claims: unknown, { alg = 'HS256', secret = SECRET } = {}): string {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  const h = alg === 'HS512' ? 'sha512' : alg === 'HS384' ? 'sha384' : 'sha256';
  return `${head}.${hmac(h, head, secret)}`;
}
const now = Math.floor(Date.now() / 1000);
const good = { email: 'bob@example.com', iss: 'open-webui', exp: now + 300 };

/** [case, token, accepted or the reason it is refused] */
const TABLE: [string, string, true | string][] = [
  ['valid', token(good), true],
  ['valid without iss', token({ email: 'a@b.c', exp: now + 60 }), true],
  ['exp just passed, within the 30 s tolerance', token({ ...good, exp: now - 10 }), true],
  ['nbf in 10 s (within tolerance)', token({ ...good, nbf: now + 10 }), true],
  ['signed by the library helper', signHs256(good, SECRET), true],
  ['expired', token({ ...good, exp: now - 120 }), 'expired'],
  ['no exp', token({ email: 'a@b.c', iss: 'open-webui' }), 'expired'],
  ['exp not a number', token({ ...good, exp: String(now + 300) }), 'expired'],
  ['nbf in an hour', token({ ...good, nbf: now + 3600 }), 'claims'],
  ['other issuer', token({ ...good, iss: 'someone-else' }), 'issuer'],
  ['wrong secret', token(good, { secret: 'another-secret-0123456789abcdef' }), 'signature'],
  [
    'tampered payload',
    (() => {
      const [h, , s] = token(good).split('.');
      return `${h}.${b64({ ...good, email: 'admin@example.com' })}.${s}`;
    })(),
    'signature',
  ],
  ['HS512 with the right secret', token(good, { alg: 'HS512' }), 'algorithm'],
  ['HS384 with the right secret', token(good, { alg: 'HS384' }), 'algorithm'],
  [
    'alg none, signed',
    `${b64({ alg: 'none' })}.${b64(good)}.${hmac('sha256', `${b64({ alg: 'none' })}.${b64(good)}`)}`,
    'algorithm',
  ],
  ['garbage', 'not-a-jwt', 'malformed'],
  ['two parts', `${b64({ alg: 'HS256' })}.${b64(good)}`, 'malformed'],
  [
    'payload not JSON',
    `${b64({ alg: 'HS256' })}.${b64('{nope')}.${hmac('sha256', `${b64({ alg: 'HS256' })}.${b64('{nope')}`)}`,
    'malformed',
  ],
];

describe('HS256 verifier (Open WebUI user header)', () => {
  const verify = createHs256Verifier(SECRET, { issuer: 'open-webui' });
  it.each(TABLE)('%s', (_name, t, expected) => {
    const result = verify(t);
    if (expected === true) {
      expect(result.ok).toBe(true);
      expect(result.ok && result.claims.email).toBeTruthy();
    } else expect(result).toEqual({ ok: false, reason: expected });
  });

  it('alg none without a signature is refused', () => {
    const r = verify(`${b64({ alg: 'none' })}.${b64(good)}.`);
    expect(r.ok).toBe(false);
  });
});
