import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

// Members tagged @internal are left out of the published declarations (dist/index.d.ts).
export default defineConfig({ ...shared, dts: { compilerOptions: { stripInternal: true } } });
