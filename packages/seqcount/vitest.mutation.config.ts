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
      // These test the built dist/ (directly, or only through worker_threads workers that
      // import it), which no mutant touches, so they can never kill one; the worker stress and
      // fairness tests are also the slowest. test/blocking-workers.test.ts stays: its main
      // thread runs src/ and is what catches a missing Atomics.notify().
      'test/build.test.ts',
      'test/stress.test.ts',
      'test/fairness-workers.test.ts',
      'test/shared-seqlock-workers.test.ts',
      'test/claim-timeout-workers.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
