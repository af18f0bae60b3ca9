// The sim as the test of the core packages: Stryker plants each mutant in a package's source
// and runs mutation/*.test.ts (through vitest.mutation.config.ts, which resolves the packages to
// their sources). Run from this directory: `pnpm mutation` (it runs Stryker from the repository
// root, so that the packages' sources are inside the project Stryker copies).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/**
 * The code the sim is there to check: the notifier core, the fault retry and KVM's notifier,
 * the deferred list, and the SRCU the vhost worker uses. The rest of the packages (the interval
 * tree, the other seqcount primitives, the shared-memory variants, input validation helpers,
 * tracing) is checked by their own tests; the sim runs little or none of it.
 */
const files = [
  'mmu-notifier/src/subscriptions.ts',
  'mmu-notifier/src/interval-notifier.ts',
  'mmu-notifier/src/itree-walk.ts',
  'mmu-notifier/src/itree.ts',
  'mmu-notifier/src/mm-state.ts',
  'mmu-notifier/src/invalidate-ops.ts',
  'mmu-notifier/src/classic-notifier.ts',
  'mmu-notifier/src/wait-queue.ts',
  'fault-retry/src/fault-with-retry.ts',
  'fault-retry/src/fault-lock.ts',
  'fault-retry/src/invalidation-tracker.ts',
  'fault-retry/src/kvm-notifier.ts',
  'deferred-list/src/deferred-list.ts',
  'deferred-list/src/ring-queue.ts',
  'seqcount/src/srcu.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  plugins: [require.resolve('@stryker-mutator/vitest-runner')],
  packageManager: 'pnpm',
  testRunner: 'vitest',
  // related: false: vitest cannot trace the aliased package sources back to the sim's test.
  vitest: { configFile: 'apps/sim/vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  mutate: files.map((f) => `packages/${f}`),
  disableTypeChecks: 'packages/*/src/**/*.ts',
  // The packages' own Stryker disable comments mark equivalent mutants; they hold here too.
  ignorePatterns: ['**/dist', '**/reports', '**/.stryker-tmp*', 'apps/sim/test', 'docs'],
  timeoutMS: 5_000,
  cleanTempDir: 'always',
  tempDirName: 'apps/sim/.stryker-tmp',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'apps/sim/reports/mutation/index.html' },
  jsonReporter: { fileName: 'apps/sim/reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
};
