import { defineConfig } from 'tsup';

/** The build every published package shares: ESM only, declarations, source maps. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
