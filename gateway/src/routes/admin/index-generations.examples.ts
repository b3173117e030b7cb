/** Example answers of the admin index routes for the OpenAPI page (validated by openapi.test.ts). */

const AT = '2026-12-01T09:30:00.000Z';
export const STATUS_EXAMPLE = {
  name: 'rattgllm_chunks',
  mode: 'alias',
  autoSwitch: false,
  active: 'rattgllm_chunks__nomic-embed-text_768_1',
  generations: [
    {
      collection: 'rattgllm_chunks__nomic-embed-text_768_1',
      model: 'nomic-embed-text',
      dim: 768,
      state: 'active',
      serving: true,
      done: 480,
      total: 480,
      createdAt: AT,
      completedAt: null,
      switchedAt: AT,
    },
    {
      collection: 'rattgllm_chunks__all-minilm_384_2',
      model: 'all-minilm',
      dim: 384,
      state: 'building',
      serving: false,
      done: 120,
      total: 480,
      createdAt: AT,
      completedAt: null,
      switchedAt: null,
    },
  ],
};

export const COMPARE_EXAMPLE = {
  queries: 40,
  baseline: {
    collection: STATUS_EXAMPLE.active,
    model: 'nomic-embed-text',
    ndcg10: 0.71,
    recall10: 0.83,
  },
  candidate: {
    collection: 'rattgllm_chunks__all-minilm_384_2',
    model: 'all-minilm',
    ndcg10: 0.74,
    recall10: 0.86,
  },
  overlap10: 0.62,
};
