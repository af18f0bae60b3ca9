/**
 * Error classes thrown by @mmukit/fault-retry. Every misuse is detected before any state
 * changes, so a caught error leaves the tracker exactly as it was.
 */

/**
 * `end()` was called while no invalidation was in progress (`inProgress === 0`).
 * The kernel treats this as a KVM bug (`KVM_BUG_ON(in_progress < 0)` in kvm_mmu_invalidate_end).
 */
export class InvalidationEndWithoutBeginError extends Error {
  override readonly name = 'InvalidationEndWithoutBeginError';
  constructor() {
    super('end() called without a matching begin(): no invalidation is in progress');
  }
}

/**
 * `rangeAdd()` was called while no invalidation was in progress. The kernel warns
 * (`WARN_ON_ONCE(!in_progress)` in kvm_mmu_invalidate_range_add); here it is an error because a
 * range added outside a burst would be reset by the next `begin()` and protect nothing.
 */
export class RangeAddOutsideInvalidationError extends Error {
  override readonly name = 'RangeAddOutsideInvalidationError';
  constructor() {
    super('rangeAdd() called outside begin()/end(): no invalidation is in progress');
  }
}

/**
 * A fault lost the race against invalidations more often than `maxRetries` allowed.
 * `retries` is the number of retries made (equal to `maxRetries`), `attempts` is `retries + 1`.
 */
export class FaultRetryLimitError extends Error {
  override readonly name = 'FaultRetryLimitError';
  readonly gfn: number;
  readonly retries: number;
  get attempts(): number {
    return this.retries + 1;
  }
  constructor(gfn: number, retries: number) {
    super(
      `fault on gfn ${gfn} gave up: ${retries + 1} attempt(s) all raced with an invalidation (maxRetries = ${retries})`,
    );
    this.gfn = gfn;
    this.retries = retries;
  }
}

/**
 * The fault's `AbortSignal` fired. `name` is `'AbortError'` (as for `fetch` and timers), `reason`
 * (and `cause`) hold `signal.reason`, `retries` how many retries had been made.
 */
export class FaultAbortedError extends Error {
  override readonly name = 'AbortError';
  readonly gfn: number;
  readonly retries: number;
  readonly reason: unknown;
  constructor(gfn: number, retries: number, reason: unknown) {
    super(`fault on gfn ${gfn} aborted after ${retries} retr${retries === 1 ? 'y' : 'ies'}`, {
      cause: reason,
    });
    this.gfn = gfn;
    this.retries = retries;
    this.reason = reason;
  }
}

/**
 * `install()` returned a Promise (any thenable) to {@link faultWithRetry}. `install` runs under the
 * MMU lock and is not awaited, so whatever an async install does after its first `await` would run
 * without the lock and outside the retry check (the kernel catches the same mistake, sleeping under
 * the `mmu_lock` spinlock, with `might_sleep()`). The fault fails with this error: the lock is
 * released, the page is `put()`, nothing counts as installed, and the promise is left to settle
 * with no-op handlers attached, so its rejection cannot become an unhandled rejection. What the
 * install did before returning (its synchronous part, under the lock) is not undone.
 */
export class AsyncInstallError extends Error {
  override readonly name = 'AsyncInstallError';
  readonly gfn: number;
  constructor(gfn: number) {
    super(
      `install() for gfn ${gfn} returned a Promise (a thenable): install must be synchronous, ` +
        'as it runs under the MMU lock and is not awaited; the fault failed and its page does not count as installed',
    );
    this.gfn = gfn;
  }
}

/** `unlock()` (or a releaser) was called on a {@link SharedMmuLock} that is not locked. */
export class LockNotHeldError extends Error {
  override readonly name = 'LockNotHeldError';
  constructor(what = 'unlock()') {
    super(`${what} called on a SharedMmuLock that is not locked`);
  }
}
