// The planted variant of sim-secondary.ts: the fault never checks for a racing invalidation.
import type { SecondaryFactory } from '@mmukit/sim';
import { mirrorDevice } from './sim-secondary.js';

const factory: SecondaryFactory = (ctx) => mirrorDevice(ctx, { retryCheck: false });
export default factory;
