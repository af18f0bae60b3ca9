/**
 * Error classes thrown by @mmukit/fault-retry. Every misuse is detected before any state
 * changes, so a caught error leaves the tracker exactly as it was.
 */

/**
 * The base class of every error this package defines (bad arguments are plain `TypeError` /
 * `RangeError`): `catch (e) { if (e instanceof FaultRetryError) ... }` catches them all.
 * Each message starts with the method or call that refused.
 */
export class FaultRetryError extends Error {
  override readonly name: string = 'FaultRetryError';
}

/**
 * `end()` was called while no invalidation was in progress (`inProgress === 0`).
 * The kernel treats this as a KVM bug (`KVM_BUG_ON(in_progress < 0)` in kvm_mmu_invalidate_end).
 */
export class InvalidationEndWithoutBeginError extends FaultRetryError {
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
export class RangeAddOutsideInvalidationError extends FaultRetryError {
  override readonly name = 'RangeAddOutsideInvalidationError';
  constructor() {
    super('rangeAdd() called outside begin()/end(): no invalidation is in progress');
  }
}

/**
 * What a fault was for, in messages: `gfn 7` for a tracker fault, `address 4096` for a
 * subscription fault given an `address`, `a subscription` for one without.
 */
function target(gfn: number, address: number | undefined): string {
  if (!Number.isNaN(gfn)) return `gfn ${gfn}`;
  return address === undefined ? 'a subscription' : `address ${address}`;
}

/**
 * The base class of the errors a {@link faultWithRetry} call fails with when the fault itself
 * gave up (retry limit, abort, deadline, async install): they say which fault it was.
 */
export class FaultError extends FaultRetryError {
  override readonly name: string = 'FaultError';
  /** The faulted gfn; `NaN` for a fault through a subscription, which has no gfn. */
  readonly gfn: number;
  /** The `address` option of a subscription fault; `undefined` when there is none. */
  readonly address: number | undefined;
  /**
   * @param message - the message (starting with the method that refused).
   * @param gfn - the faulted gfn, or `NaN` for a subscription fault.
   * @param address - the subscription fault's `address` option.
   * @param options - the standard `Error` options (`cause`).
   */
  constructor(message: string, gfn: number, address: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.gfn = gfn;
    this.address = address;
  }
}

/**
 * A fault lost the race against invalidations more often than `maxRetries` allowed.
 * `retries` is the number of retries made (equal to `maxRetries`), `attempts` is `retries + 1`.
 * `gfn` is the faulted gfn, or `NaN` for a fault through a subscription (which has no gfn);
 * `address` is the subscription fault's `address` option (`undefined` otherwise).
 */
export class FaultRetryLimitError extends FaultError {
  override readonly name = 'FaultRetryLimitError';
  /** The number of retries made: the fault's `maxRetries`. */
  readonly retries: number;
  /** The number of attempts made: `retries + 1`. */
  get attempts(): number {
    return this.retries + 1;
  }
  constructor(gfn: number, retries: number, address?: number) {
    super(
      `faultWithRetry() on ${target(gfn, address)} gave up: ${retries + 1} attempt(s) all raced with an invalidation (maxRetries = ${retries})`,
      gfn,
      address,
    );
    this.retries = retries;
  }
}

/**
 * The fault's `AbortSignal` fired. `name` is `'AbortError'` (as for `fetch` and timers), `reason`
 * (and `cause`) hold `signal.reason`, `retries` how many retries had been made. `gfn` and
 * `address` as in {@link FaultRetryLimitError}.
 */
export class FaultAbortedError extends FaultError {
  override readonly name = 'AbortError';
  /** How many retries had been made when the signal was seen. */
  readonly retries: number;
  /** The signal's `reason` (also the error's `cause`). */
  readonly reason: unknown;
  constructor(gfn: number, retries: number, reason: unknown, address?: number) {
    super(
      `faultWithRetry() on ${target(gfn, address)} aborted after ${retries} retr${retries === 1 ? 'y' : 'ies'}`,
      gfn,
      address,
      { cause: reason },
    );
    this.retries = retries;
    this.reason = reason;
  }
}

/**
 * The fault's `deadline` passed. `name` is `'TimeoutError'` (as the error of
 * `AbortSignal.timeout()`), `deadline` is the option as given (a `Date.now()` timestamp in ms),
 * `retries` how many retries had been made. Checked at the same points as the signal: before
 * each attempt, after a `readBegin()` that waited, and after each `resolve()` (the page is put);
 * never while the lock is held. `gfn` and `address` as in {@link FaultRetryLimitError}.
 */
export class FaultDeadlineError extends FaultError {
  override readonly name = 'TimeoutError';
  /** How many retries had been made when the deadline was seen to have passed. */
  readonly retries: number;
  /** The `deadline` option as given: a `Date.now()` timestamp in ms. */
  readonly deadline: number;
  constructor(gfn: number, retries: number, deadline: number, address?: number) {
    super(
      `faultWithRetry() on ${target(gfn, address)} passed its deadline (${deadline}) after ${retries} retr${retries === 1 ? 'y' : 'ies'}`,
      gfn,
      address,
    );
    this.retries = retries;
    this.deadline = deadline;
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
export class AsyncInstallError extends FaultError {
  override readonly name = 'AsyncInstallError';
  constructor(gfn: number, address?: number) {
    super(
      `faultWithRetry(): install() for ${target(gfn, address)} returned a Promise (a thenable): install must be synchronous, ` +
        'as it runs under the MMU lock and is not awaited; the fault failed and its page does not count as installed',
      gfn,
      address,
    );
  }
}

/** `unlock()` (or a releaser) was called on a {@link SharedMmuLock} that is not locked. */
export class LockNotHeldError extends FaultRetryError {
  override readonly name = 'LockNotHeldError';
  constructor(what = 'unlock()') {
    super(`${what} called on a SharedMmuLock that is not locked`);
  }
}
