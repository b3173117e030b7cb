// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports flow one way: gateway → core, ingestor → core, widget → nothing of the server. */
const boundary = (/** @type {string[]} */ forbidden, /** @type {string} */ message) => ({
  'no-restricted-imports': [
    'error',
    { patterns: forbidden.map((group) => ({ group: [group, `${group}/**`], message })) },
  ],
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', 'coverage/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Configuration is read once, in core/src/config.ts; everything else receives it.
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through loadConfig() in @rattgllm/core.',
        },
      ],
    },
  },
  {
    // Type-aware rules for the shipped code: a promise nobody awaits or catches loses its error.
    files: ['core/src/**/*.ts', 'gateway/src/**/*.ts', 'ingestor/src/**/*.ts', 'widget/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
  {
    files: ['core/src/**'],
    rules: boundary(
      [
        '@rattgllm/gateway',
        '@rattgllm/ingestor',
        '@rattgllm/widget',
        '**/gateway/src',
        '**/ingestor/src',
        '**/widget/src',
      ],
      'core is the bottom layer: it imports no server package and no widget code.',
    ),
  },
  {
    files: ['gateway/src/**'],
    rules: boundary(
      ['@rattgllm/ingestor', '@rattgllm/widget', '**/ingestor/src', '**/widget/src', '@rattgllm/core/src'],
      'The gateway imports only @rattgllm/core (its public index), never the ingestor or the widget.',
    ),
  },
  {
    files: ['ingestor/src/**'],
    rules: boundary(
      ['@rattgllm/gateway', '@rattgllm/widget', '**/gateway/src', '**/widget/src', '@rattgllm/core/src'],
      'The ingestor imports only @rattgllm/core (its public index), never the gateway or the widget.',
    ),
  },
  {
    files: ['widget/src/**'],
    rules: boundary(
      [
        '@rattgllm/core',
        '@rattgllm/gateway',
        '@rattgllm/ingestor',
        '**/core/src',
        '**/gateway/src',
        '**/ingestor/src',
      ],
      'The widget runs in the browser: it imports nothing of the server.',
    ),
  },
  {
    files: ['core/src/config.ts', 'test/support/**', '**/test/**', 'scripts/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
