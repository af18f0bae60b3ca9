export { MmuNotifier, type MmuNotifierOps } from './classic-notifier.js';
export {
  CallbackContextError,
  MmuNotifierError,
  NonBlockablePromiseError,
  NotifierCallbackError,
  ReleasedError,
  SetSeqError,
  SubscriptionRemovedError,
  UnbalancedEndError,
} from './errors.js';
export { isMmuNotifierEvent, MMU_NOTIFIER_EVENTS, type MmuNotifierEvent } from './events.js';
export {
  IntervalNotifier,
  type IntervalNotifierOps,
  type IntervalNotifierState,
  REMOVED_SEQ,
} from './interval-notifier.js';
export {
  clipRange,
  type InvalidateOpsOptions,
  invalidateOps,
  type NotifierLock,
  type TeardownOptions,
  teardownInterval,
} from './invalidate-ops.js';
export { type AsyncContextLike, MAX_INVALIDATE_SEQ } from './mm-state.js';
export { MAX_ADDRESS, type MmuNotifierRange, type MmuNotifierRangeInit } from './range.js';
export {
  MAX_NESTED_INVALIDATIONS,
  MmuNotifierSubscriptions,
  type MmuNotifierSubscriptionsOptions,
} from './subscriptions.js';
export type { MmuNotifierTraceEvent, MmuNotifierTracer } from './trace.js';
