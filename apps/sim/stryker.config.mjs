// The sim as the test of the core packages: Stryker plants each mutant in a package's source
// and runs mutation/*.test.ts (through vitest.mutation.config.ts, which resolves the packages to
// their sources). Run from this directory: `pnpm mutation` (it runs Stryker from the repository
// root, so that the packages' sources are inside the project Stryker copies).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const packages = ['interval-tree', 'seqcount', 'deferred-list', 'mmu-notifier', 'fault-retry'];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  plugins: [require.resolve('@stryker-mutator/vitest-runner')],
  packageManager: 'pnpm',
  testRunner: 'vitest',
  // related: false: vitest cannot trace the aliased package sources back to the sim's test.
  vitest: { configFile: 'apps/sim/vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // Mutants in the packages' sources, but not in what only their own entry points re-export.
  mutate: packages.flatMap((p) => [`packages/${p}/src/**/*.ts`, `!packages/${p}/src/index.ts`]),
  disableTypeChecks: 'packages/*/src/**/*.ts',
  // The packages' own Stryker disable comments mark equivalent mutants; they hold here too.
  ignorePatterns: ['**/dist', '**/reports', '**/.stryker-tmp*', 'apps/sim/test', 'docs'],
  timeoutMS: 20_000,
  cleanTempDir: 'always',
  tempDirName: 'apps/sim/.stryker-tmp',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'apps/sim/reports/mutation/index.html' },
  jsonReporter: { fileName: 'apps/sim/reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
};
