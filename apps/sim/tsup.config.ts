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
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
