// Shared StrykerJS settings for the core packages; each package's stryker.config.mjs calls this
// with what differs (mostly nothing). Run from a package directory: `pnpm mutation`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * @param {Partial<import('@stryker-mutator/api/core').PartialStrykerOptions>} overrides
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default function strykerConfig(overrides = {}) {
  return {
    // pnpm's strict layout hides the runner from core's own lookup: load it by path.
    plugins: [require.resolve('@stryker-mutator/vitest-runner')],
    packageManager: 'pnpm',
    testRunner: 'vitest',
    // Each package's vitest.mutation.config.ts leaves out the tests that can never kill a mutant
    // of src/: the built package's test (imports dist/, which no mutant touches) and the
    // worker_threads tests (their workers import dist/ too, and they are the slow ones).
    vitest: { configFile: 'vitest.mutation.config.ts' },
    coverageAnalysis: 'perTest',
    concurrency: 2,
    mutate: ['src/**/*.ts', '!src/index.ts'],
    // `// @ts-nocheck` only where mutants live: the README tests compare examples/ byte for byte.
    disableTypeChecks: 'src/**/*.ts',
    // Sandboxes go to <package>/.stryker-tmp (git-ignored); Stryker rewrites the tsconfig's
    // `extends` for that depth, and vitest.mutation.config.ts imports nothing outside the package.
    cleanTempDir: 'always',
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: 'reports/mutation/index.html' },
    jsonReporter: { fileName: 'reports/mutation/mutation.json' },
    thresholds: { high: 90, low: 85, break: null },
    ...overrides,
  };
}
