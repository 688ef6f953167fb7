// Tests run against each sibling's TypeScript source through the
// `@hmmkit/source` export condition, so no build is needed first.
// TEST_DIST=1 drops the condition: imports then resolve through the published
// exports map to dist/, which catches a broken exports map before a release.
import { defineConfig } from 'vitest/config';

const fromDist = process.env.TEST_DIST === '1' || process.env.TEST_DIST === 'true';
const conditions = fromDist ? [] : ['@hmmkit/source'];

/** @param {import('vitest/config').ViteUserConfig['test']} [test] */
export function hmmkitConfig(test = {}) {
  return defineConfig({
    resolve: { conditions: [...conditions, 'module', 'node', 'import', 'default'] },
    ssr: { resolve: { conditions: [...conditions, 'node', 'import', 'default'] } },
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      environment: 'node',
      pool: 'threads',
      // A guard against hangs, not a speed check: the whole repo's suites share two
      // cores under turbo, and explorer tests can take seconds on a loaded machine.
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...test,
    },
  });
}
