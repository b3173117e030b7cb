import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The import direction (gateway → core, ingestor → core, widget → nothing of the server) is a lint
 * rule in eslint.config.js; these cases prove the rule fires, so a refactor of the config cannot
 * silently switch it off.
 */
const eslint = new ESLint({
  // Only the boundary rule is under test: the type-aware rules need files on disk.
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
    },
  },
});

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['core/src/x.ts', "import { buildApp } from '@rattgllm/gateway';"],
    ['core/src/x.ts', "import { startIngestor } from '../../ingestor/src/main.js';"],
    ['gateway/src/x.ts', "import type { IngestorDeps } from '@rattgllm/ingestor';"],
    ['gateway/src/x.ts', "import { loadConfig } from '@rattgllm/core/src/config.js';"],
    ['ingestor/src/x.ts', "import { buildApp } from '../../gateway/src/app.js';"],
    ['widget/src/x.ts', "import { canRead } from '@rattgllm/core';"],
  ])('%s may not: %s', async (file, code) => {
    expect(await restricted(file, `${code}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    ['gateway/src/x.ts', "import { loadConfig } from '@rattgllm/core';"],
    ['ingestor/src/x.ts', "import { loadConfig } from '@rattgllm/core';"],
    ['widget/src/x.ts', "import { LitElement } from 'lit';"],
  ])('%s may: %s', async (file, code) => {
    expect(await restricted(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});
