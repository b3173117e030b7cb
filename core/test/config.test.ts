import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@rattgllm/core';

describe('parseConfig', () => {
  it('lists every missing or invalid variable in one error', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', JWT_EXPIRES_IN: 'soon', S3_ENDPOINT: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/JWT_SECRET: required but not set/);
    expect(problems).toMatch(/PORT:/);
    expect(problems).toMatch(/JWT_EXPIRES_IN: expected a duration/);
    expect(problems).toMatch(/S3_ENDPOINT:/);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('flags the published demo values as insecure defaults', () => {
    const config = parseConfig({ JWT_SECRET: 'supersecretkey' });
    expect([...config.insecureDefaults].sort()).toEqual(
      ['ADMIN_PASSWORD', 'JWT_SECRET', 'MINIO_ROOT_PASSWORD', 'MINIO_ROOT_USER', 'POSTGRES_PASSWORD'].sort(),
    );
    // The compose stack's published Postgres password counts too, unless DATABASE_URL replaces it.
    expect(
      parseConfig({ JWT_SECRET: 'x'.repeat(32), POSTGRES_PASSWORD: 'changeme' }).insecureDefaults,
    ).toContain('POSTGRES_PASSWORD');
    expect(
      parseConfig({ JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://u:p@db/x' }).insecureDefaults,
    ).not.toContain('POSTGRES_PASSWORD');
  });

  it('has no insecure defaults when every secret is set', () => {
    const config = parseConfig({
      JWT_SECRET: 'a-long-random-secret-value',
      ADMIN_PASSWORD: 'correct horse',
      MINIO_ROOT_USER: 'rattg',
      MINIO_ROOT_PASSWORD: 'another-long-secret',
      POSTGRES_PASSWORD: 'a-third-long-secret',
    });
    expect(config.insecureDefaults).toEqual([]);
  });

  it('builds DATABASE_URL from the POSTGRES_* parts and parses durations', () => {
    const config = parseConfig({
      JWT_SECRET: 'x'.repeat(32),
      POSTGRES_USER: 'rattg_user',
      POSTGRES_PASSWORD: 'p@ss/word',
      POSTGRES_HOST: 'db',
      POSTGRES_DB: 'rattgllm',
      JWT_EXPIRES_IN: '30m',
    });
    expect(config.DATABASE_URL).toBe('postgres://rattg_user:p%40ss%2Fword@db:5432/rattgllm');
    expect(config.JWT_EXPIRES_IN).toBe(1800);
    expect(parseConfig({ JWT_SECRET: 'x'.repeat(32) }).JWT_EXPIRES_IN).toBe(12 * 3600);
  });

  it("LLM_TIMEOUT is the chat upstream's own limit, apart from EMBED_TIMEOUT", () => {
    const defaults = parseConfig({ JWT_SECRET: 'x'.repeat(32) });
    expect(defaults.LLM_TIMEOUT).toBe(120);
    expect(defaults.LLM_API_KEY).toBeUndefined();
    const set = parseConfig({
      JWT_SECRET: 'x'.repeat(32),
      EMBED_TIMEOUT: '5s',
      LLM_TIMEOUT: '10m',
      LLM_API_KEY: 'sk-1',
    });
    expect([set.EMBED_TIMEOUT, set.LLM_TIMEOUT, set.LLM_API_KEY]).toEqual([5, 600, 'sk-1']);
    expect(parseConfig({ JWT_SECRET: 'x'.repeat(32), EMBED_TIMEOUT: '5s' }).LLM_TIMEOUT).toBe(120);
  });

  it('CHAT_SITE_URL is an origin, or unset when the address names no host', () => {
    const secret = { JWT_SECRET: 'x'.repeat(32) };
    expect(parseConfig({ ...secret, CHAT_SITE_URL: 'https://chat.example.com/' }).CHAT_SITE_URL).toBe(
      'https://chat.example.com',
    );
    expect(parseConfig({ ...secret, CHAT_SITE_URL: 'http://:3000' }).CHAT_SITE_URL).toBeUndefined();
    expect(parseConfig({ ...secret, CHAT_SITE_URL: 'chat.example.com' }).CHAT_SITE_URL).toBeUndefined();
  });

  it('normalises PUBLIC_API_URL (scheme added, trailing slash removed)', () => {
    const secret = { JWT_SECRET: 'x'.repeat(32) };
    expect(parseConfig({ ...secret, PUBLIC_API_URL: 'rag.example.com/api/' }).PUBLIC_API_URL).toBe(
      'https://rag.example.com/api',
    );
    expect(parseConfig({ ...secret, PUBLIC_API_URL: 'http://localhost:8080/api' }).PUBLIC_API_URL).toBe(
      'http://localhost:8080/api',
    );
    expect(parseConfig(secret).PUBLIC_API_URL).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(() => parseConfig({ JWT_SECRET: '' })).toThrow(/JWT_SECRET: required but not set/);
  });

  it('switches the embedding prefixes off with none or an empty value, keeps nomic’s by default', () => {
    const base = { JWT_SECRET: 'a-long-random-secret-value' };
    expect(parseConfig(base)).toMatchObject({
      EMBED_DOCUMENT_PREFIX: 'search_document: ',
      EMBED_QUERY_PREFIX: 'search_query: ',
    });
    for (const off of ['none', 'NONE', '']) {
      expect(parseConfig({ ...base, EMBED_DOCUMENT_PREFIX: off, EMBED_QUERY_PREFIX: off })).toMatchObject({
        EMBED_DOCUMENT_PREFIX: '',
        EMBED_QUERY_PREFIX: '',
      });
    }
    expect(parseConfig({ ...base, EMBED_QUERY_PREFIX: 'query: ' }).EMBED_QUERY_PREFIX).toBe('query: ');
  });

  it('leaves CHUNK_TOKENS unset unless given (the ingestor fits it to the model)', () => {
    const base = { JWT_SECRET: 'a-long-random-secret-value' };
    expect(parseConfig(base).CHUNK_TOKENS).toBeUndefined();
    expect(parseConfig({ ...base, CHUNK_TOKENS: '' }).CHUNK_TOKENS).toBeUndefined();
    expect(parseConfig({ ...base, CHUNK_TOKENS: '200' }).CHUNK_TOKENS).toBe(200);
  });
});
