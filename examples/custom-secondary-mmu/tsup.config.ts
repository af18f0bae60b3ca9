import { defineConfig } from 'tsup';

// The sim loads secondary modules as plain ES modules: these two, compiled to dist/ (the
// packages they import stay imports).
export default defineConfig({
  entry: ['sim-secondary.ts', 'sim-secondary-no-retry.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
