import { defineConfig } from 'vitest/config';

/** The vitest settings every package shares; each package's vitest.config.ts re-exports this. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property, interleaving and worker tests run on a loaded 2-core machine in CI: their time
    // bounds live inside the tests (iteration counts, deadlines), not in vitest's 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report is summed by .ci/run into its "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
