import type { LabStrategyName } from '../config.js';
import type { StrategyFactory } from '../strategy.js';
import { collisionRetry } from './collision-retry.js';
import { gracePeriod } from './grace-period.js';
import { kvmRetry } from './kvm-retry.js';
import { mutexStrategy } from './mutex.js';
import { readerCount } from './reader-count.js';

/** Every strategy's factory, by name. */
export const STRATEGIES: Readonly<Record<LabStrategyName, StrategyFactory>> = {
  'collision-retry': collisionRetry,
  'kvm-retry': kvmRetry,
  mutex: mutexStrategy,
  'reader-count': readerCount,
  'grace-period': gracePeriod,
};
