export {
  AsyncInstallError,
  FaultAbortedError,
  FaultDeadlineError,
  FaultError,
  FaultRetryError,
  FaultRetryLimitError,
  InvalidationEndWithoutBeginError,
  LockNotHeldError,
  RangeAddOutsideInvalidationError,
} from './errors.js';
export type {
  FaultCommonOptions,
  FaultOptions,
  FaultResult,
  FaultSubscription,
  FaultTracker,
  SubscriptionFaultOptions,
} from './fault-with-retry.js';
export { faultWithRetry } from './fault-with-retry.js';
export { InvalidationTracker } from './invalidation-tracker.js';
export type {
  KvmMemslot,
  KvmNotifier,
  KvmNotifierOptions,
  KvmNotifierRange,
  KvmNotifierTracker,
} from './kvm-notifier.js';
export { kvmNotifierOps } from './kvm-notifier.js';
export type { FaultLock, MmuLock, UserLock } from './mmu-lock.js';
export { SharedInvalidationTracker } from './shared-invalidation-tracker.js';
export { SharedMmuLock } from './shared-mmu-lock.js';
export type { InvalidationTrackerLike, InvalidationTrackerOptions } from './tracker-like.js';
