import { defineConfig } from 'tsup';

export default defineConfig({
  // Flat in dist/: the worker entries sit beside the chunks that start them (new URL('./x.js')).
  entry: {
    cli: 'src/cli.ts',
    index: 'src/index.ts',
    'explore-worker': 'src/explore-worker.ts',
    'exhaust-worker': 'src/exhaust-worker.ts',
    'vcpu-worker': 'src/threads/vcpu-worker.ts',
  },
  format: ['esm'],
  // Declarations for the library entry only (index.d.ts): the CLI and the workers have no API.
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  // The published tarball holds dist/ only: the maps carry the TypeScript sources.
  esbuildOptions(options) {
    options.sourcesContent = true;
  },
  clean: true,
  target: 'es2022',
});
