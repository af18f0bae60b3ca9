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
      // Breaks textual copies of src/ to show the property test can fail; under Stryker src/ is
      // instrumented, so those edits no longer break what they name (and test no mutant).
      'test/negative-control.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
