/**
 * Citation link tokens, signed once a minute per reader and document instead of on every chat
 * turn: a JWT signature per cited document cost ~0.05 ms each on the way to the first token.
 * A token reused for up to a minute is the token a fresh signing would give (same reader, same
 * document, same scope) expiring that much sooner (a day is their life); the reader's access is
 * checked again on every click, whenever the token was made.
 */
type Sign = (userId: string, documentId: string) => string;

const REUSE_MS = 60_000;
const MAX_ENTRIES = 10_000;

const memos = new WeakMap<Sign, Map<string, { token: string; until: number }>>();

/** `sign`, with each reader's token for a document reused for up to a minute. */
export function reusedLinks(sign: Sign, now: () => number = Date.now): Sign {
  let memo = memos.get(sign);
  if (!memo) memos.set(sign, (memo = new Map()));
  const m = memo;
  return (userId, documentId) => {
    const key = `${userId}\u0000${documentId}`;
    const t = now();
    const held = m.get(key);
    if (held && held.until > t) return held.token;
    const token = sign(userId, documentId);
    m.delete(key);
    m.set(key, { token, until: t + REUSE_MS });
    // The oldest go first (a Map keeps insertion order).
    while (m.size > MAX_ENTRIES) m.delete(m.keys().next().value!);
    return token;
  };
}
