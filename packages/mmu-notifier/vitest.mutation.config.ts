import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against each mutant (stryker.config.mjs). The settings of
 * vitest.shared.ts, restated: Stryker's sandbox (.stryker-tmp/sandbox-*) sits deeper than the
 * package, so `../../` imports do not resolve from it.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      // Tests the built dist/, which no mutant touches: it can never kill one.
      'test/build.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
