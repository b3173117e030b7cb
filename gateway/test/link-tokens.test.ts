import { describe, expect, it } from 'vitest';
import { reusedLinks } from '../src/retrieval/link-tokens.js';

describe('reusedLinks', () => {
  it('reuses a reader’s token for a document for a minute, never another reader’s or document’s', () => {
    let n = 0;
    let now = 0;
    const sign = (user: string, doc: string) => `${user}/${doc}/${++n}`;
    const links = () => reusedLinks(sign, () => now);
    const first = links()('alice', 'd1');
    expect(links()('alice', 'd1')).toBe(first);
    expect(links()('bob', 'd1')).not.toBe(first);
    expect(links()('bob', 'd1')).toMatch(/^bob\/d1\//);
    expect(links()('alice', 'd2')).toMatch(/^alice\/d2\//);
    now += 59_999;
    expect(links()('alice', 'd1')).toBe(first);
    now += 1;
    const fresh = links()('alice', 'd1');
    expect(fresh).not.toBe(first);
    expect(fresh).toMatch(/^alice\/d1\//);
  });
});
