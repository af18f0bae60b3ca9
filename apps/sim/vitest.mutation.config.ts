import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/** Each core package's source entry, so that the sim runs the (mutated) sources, not dist/. */
const packages = ['interval-tree', 'seqcount', 'deferred-list', 'mmu-notifier', 'fault-retry'];
const alias = Object.fromEntries(
  packages.map((p) => [
    `@mmukit/${p}`,
    fileURLToPath(new URL(`../../packages/${p}/src/index.ts`, import.meta.url)),
  ]),
);

/**
 * The sim as the test of the core packages' mutants (stryker.config.mjs here): only
 * mutation/*.test.ts, which explores the scenario and the tiny worlds and expects no violation,
 * with the packages resolved to their sources.
 */
export default defineConfig({
  resolve: { alias },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['mutation/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
