export {
  AsyncInstallError,
  FaultAbortedError,
  FaultRetryLimitError,
  InvalidationEndWithoutBeginError,
  LockNotHeldError,
  RangeAddOutsideInvalidationError,
} from './errors.js';
export type { FaultOptions, FaultResult, FaultTracker } from './fault-with-retry.js';
export { faultWithRetry } from './fault-with-retry.js';
export { InvalidationTracker } from './invalidation-tracker.js';
export type { MmuLock } from './mmu-lock.js';
export { SharedInvalidationTracker } from './shared-invalidation-tracker.js';
export { SharedMmuLock } from './shared-mmu-lock.js';
export type { InvalidationTrackerLike, InvalidationTrackerOptions } from './tracker-like.js';
