import { defineConfig } from 'tsup';

/**
 * The build every published package shares: ESM only, one bundled declaration file, and source
 * maps that embed the TypeScript sources (`sourcesContent`). That is how the sources ship: the
 * packages publish `dist/` only (no `src/`), so a stack trace or a debugger maps into the original
 * TypeScript from the map alone. No declaration maps: the bundled `index.d.ts` has none, and
 * without `src/` in the tarball they would point at nothing.
 */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = true;
  },
  clean: true,
  target: 'es2022',
});
