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
      // These test the built dist/ (directly or from worker_threads workers that import it),
      // which no mutant touches, so they can never kill one; they are also the slow ones
      // (~2 s of workers per run).
      'test/build.test.ts',
      'test/workers.test.ts',
      'test/seq-tearing.test.ts',
      'test/end-ordering.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
