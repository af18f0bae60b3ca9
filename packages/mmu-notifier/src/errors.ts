/**
 * Base class of every error this package throws (bad arguments aside, which are
 * `TypeError`/`RangeError`). The misuse errors below mean a caller broke a rule of the protocol
 * that would deadlock or corrupt state in the kernel; they are thrown (or the promise rejects)
 * before anything changes, unless the class says otherwise. Each message starts with the method
 * that refused.
 */
export class MmuNotifierError extends Error {
  override readonly name: string = 'MmuNotifierError';
}

/**
 * `remove()`, `readBegin()` or `MmuNotifier.unregister()` was called from inside a notifier
 * callback of the same address space. In the kernel this deadlocks (the call waits for the very
 * invalidation whose callback is calling it; lockdep reports it through
 * `__mmu_notifier_invalidate_range_start_map`). "Inside" means during the synchronous part of a
 * callback; see the README ("What counts as inside a callback"). Also thrown by a start nested
 * `MAX_NESTED_INVALIDATIONS` deep in callbacks (runaway recursion).
 */
export class CallbackContextError extends MmuNotifierError {
  override readonly name = 'CallbackContextError';
}

/**
 * `IntervalNotifier.setSeq()` was called while no `invalidate` callback of that subscription is
 * running, or with another value than the `curSeq` that callback was given. The kernel's
 * `mmu_interval_set_seq()` has no check; a wrong value silently breaks the collision-retry.
 */
export class SetSeqError extends MmuNotifierError {
  override readonly name = 'SetSeqError';
}

/**
 * `invalidateRangeEnd()` was called with a range object that has no successful start left to
 * end: an end without a start, a second end, an end after a start that failed (EAGAIN or error),
 * or an end before the blockable start's promise resolved; detected also while other ranges are
 * active. The kernel would end another range's invalidation early, or underflow
 * `active_invalidate_ranges`.
 */
export class UnbalancedEndError extends MmuNotifierError {
  override readonly name = 'UnbalancedEndError';
}

/**
 * A callback returned a Promise (any thenable) where it must not wait: an `invalidate` or classic
 * `invalidateRangeStart` for a non-blockable range, any classic `invalidateRangeEnd`, or an aging
 * callback. The kernel catches sleeping there with `non_block_start()`. It is reported as that
 * callback's failure (inside a {@link NotifierCallbackError}); its promise is left to settle with
 * a rejection handler attached, so it cannot become an unhandled rejection.
 */
export class NonBlockablePromiseError extends MmuNotifierError {
  override readonly name = 'NonBlockablePromiseError';
}

/**
 * The address space was released ({@link MmuNotifierSubscriptions.release}): no new
 * subscriptions, and `release()` runs once. Existing subscriptions may still be removed.
 */
export class ReleasedError extends MmuNotifierError {
  override readonly name = 'ReleasedError';
}

/**
 * The subscription was already removed (interval) or unregistered (classic): a second
 * `remove()`/`unregister()`, or `readBegin()`/`tryReadBegin()` after `remove()`. A use after
 * free in the kernel.
 */
export class SubscriptionRemovedError extends MmuNotifierError {
  override readonly name = 'SubscriptionRemovedError';
}

/**
 * One or more callbacks threw, rejected, or returned a Promise where they must not. `errors`
 * holds every failure in call order (the first is also `cause`), as an `AggregateError` would.
 * Thrown after the rest of the callbacks ran and the bookkeeping was repaired: for a start, the
 * invalidation was undone as for EAGAIN (the caller must not change its page tables and must not
 * call end); for an end, a release or an aging call, everything else completed. Unlike the other
 * classes here it reports failures of user code, not a misuse by the caller.
 */
export class NotifierCallbackError extends MmuNotifierError {
  override readonly name = 'NotifierCallbackError';
  /** Every failure, in call order. */
  readonly errors: unknown[];

  constructor(errors: unknown[], what: string) {
    super(
      `${what}: ${errors.length} callback${errors.length === 1 ? '' : 's'} failed (see .errors)`,
      { cause: errors[0] },
    );
    this.errors = errors;
  }
}
