import {
  AsyncInstallError,
  FaultAbortedError,
  FaultDeadlineError,
  FaultRetryLimitError,
} from './errors.js';
import { lockTakerOf, type TakeLock } from './fault-lock.js';
import type { FaultLock } from './mmu-lock.js';
import type { InvalidationTrackerLike } from './tracker-like.js';
import { checkFunction, checkIndex } from './validate.js';

/** What faultWithRetry() needs of a tracker: the snapshot and the two gfn checks. */
export type FaultTracker = Pick<
  InvalidationTrackerLike,
  'snapshot' | 'retryGfn' | 'retryGfnUnsafe'
>;

/**
 * What faultWithRetry() needs of an interval subscription (mmu-notifier's `IntervalNotifier`
 * fits as is): the read-side calls of the collision-retry protocol.
 */
export interface FaultSubscription {
  /**
   * Begins a read: returns the sequence value to pass to `readRetry`, or a promise of it (it may
   * wait for an invalidation of the subscription to end). Called without the lock, once per
   * attempt. What it throws or rejects with (e.g. mmu-notifier's SubscriptionRemovedError after
   * the subscription was removed) reaches the caller of faultWithRetry() unchanged.
   */
  readBegin(): number | PromiseLike<number>;
  /**
   * Optional fast path of `readBegin`: the sequence value, or `undefined` when `readBegin` would
   * wait. When present it is tried first, so an attempt that need not wait costs no promise.
   */
  tryReadBegin?(): number | undefined;
  /** True if an invalidation collided with the read begun with `seq`. Called under the lock. */
  readRetry(seq: number): boolean;
  /**
   * Optional lockless hint of `readRetry` (true is reliable, false may be stale): the precheck
   * before resolving and before taking the lock, when `precheck` is not false.
   */
  checkRetry?(seq: number): boolean;
}

/** Options of {@link faultWithRetry} shared by both kinds of fault. */
export interface FaultCommonOptions<P> {
  /**
   * The lock the invalidator holds around its begin()/rangeAdd()/zap and end() (for a tracker),
   * or around setSeq + zap (for a subscription): an {@link MmuLock} (`acquire()`) or a
   * {@link UserLock} (`tryLock()`/`lock()`/`unlock()`). See faultWithRetry() for how it is taken.
   */
  lock: FaultLock;
  /**
   * Resolves the page from the primary MMU. Runs without the lock and may sleep.
   * Called once per attempt; `signal` is the fault's signal (a never-aborting one if none).
   */
  resolve(signal: AbortSignal): Promise<P>;
  /**
   * Installs the page in the secondary MMU. Runs under the lock, after a passing check. Must be
   * synchronous: it is not awaited, and whatever an async install did after its first await would
   * run without the lock, outside the retry check. So an install that returns a Promise (any
   * thenable: an object or function with a callable `then`) fails the fault with
   * {@link AsyncInstallError}: the lock is released, the page is `put()` once, nothing counts as
   * installed, and the promise is left to settle with no-op handlers (attached after the lock is
   * released), so its rejection is never an unhandled rejection. The install's synchronous part
   * has run under the lock and is not undone. Reading `then` on the returned value is part of the
   * install: if that getter throws, the fault fails as if install() had thrown that error. Any
   * other return value is ignored.
   */
  install(page: P): void;
  /** Releases a resolved page that will not be installed (lost the race, or an error). */
  put?(page: P): void;
  /**
   * How many times to retry after losing the race (default: unbounded, like KVM, where the
   * guest simply re-faults). A non-negative integer or `Infinity`.
   */
  maxRetries?: number;
  /** Aborts the fault between steps (never while the lock is held). */
  signal?: AbortSignal;
  /**
   * Gives up with {@link FaultDeadlineError} once `Date.now() >= deadline`: an absolute time in
   * milliseconds on the `Date.now()` clock (e.g. `Date.now() + 50`); `Infinity` (or omitted)
   * for none. Checked where the signal is (before each attempt, after a `readBegin()` that
   * waited, after each `resolve()`), never while the lock is held; nothing is interrupted, so a
   * slow `resolve()` finishes first. For a limit that interrupts `resolve()`, pass
   * `signal: AbortSignal.timeout(ms)` (FaultAbortedError) and honour the signal in `resolve`.
   */
  deadline?: number;
  /**
   * Awaited before each retry, with the number of retries so far (1 for the first retry).
   * Default: yield one macrotask (setImmediate/setTimeout), so that an invalidator waiting on a
   * timer or I/O can reach end() instead of being starved by a retry loop made of microtasks.
   * Pass `() => {}` to retry at once, or a scheduler hook in tests.
   */
  backoff?: (retries: number) => void | Promise<void>;
  /**
   * Run the lockless check (the tracker's retryGfnUnsafe(), or the subscription's checkRetry()
   * if it has one) before resolving and again before taking the lock, to skip work that is
   * certain to be wasted (default true, as KVM's kvm_faultin_pfn does).
   */
  precheck?: boolean;
}

/** Options of {@link faultWithRetry} for a KVM-style tracker fault on one gfn. */
export interface FaultOptions<P> extends FaultCommonOptions<P> {
  /** The address space's tracker (InvalidationTracker or SharedInvalidationTracker). */
  tracker: FaultTracker;
  /** The guest frame number being faulted in: a safe integer >= 0. */
  gfn: number;
  /** Not with a tracker: a fault has either `tracker` + `gfn` or `subscription`. */
  subscription?: undefined;
  /** Only with `subscription`. */
  address?: undefined;
}

/** Options of {@link faultWithRetry} for a fault through an interval subscription. */
export interface SubscriptionFaultOptions<P> extends FaultCommonOptions<P> {
  /** The interval subscription covering the faulted address (e.g. an `IntervalNotifier`). */
  subscription: FaultSubscription;
  /** The faulted address, only for error messages and the errors' `address` (safe integer >= 0). */
  address?: number;
  /** Not with a subscription: a fault has either `tracker` + `gfn` or `subscription`. */
  tracker?: undefined;
  /** Only with `tracker`. */
  gfn?: undefined;
}

/** Result of {@link faultWithRetry}: the installed page and how many retries it took. */
export interface FaultResult<P> {
  /** The page that `install` installed (what `resolve` returned for the winning attempt). */
  page: P;
  /** How many retries it took: 0 if the first attempt installed. */
  retries: number;
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;

// Stryker disable all: equivalent under Node, which always has setImmediate (both yield one
// macrotask); the setTimeout fallback is for other runtimes and never runs in the tests.
const yieldMacrotask: (retries: number) => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise<void>((resolve) => setImmediate(resolve))
    : () => new Promise<void>((resolve) => setTimeout(resolve, 0));
// Stryker restore all

/**
 * Validates the options (TypeError/RangeError before anything runs) and returns how to take
 * the lock.
 */
function checkOptions<P>(opts: FaultOptions<P> | SubscriptionFaultOptions<P>): TakeLock {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError('faultWithRetry() needs an options object');
  }
  const { tracker, subscription } = opts;
  if ((tracker === undefined) === (subscription === undefined)) {
    throw new TypeError(
      tracker === undefined
        ? 'faultWithRetry() needs a tracker (with a gfn) or a subscription'
        : 'faultWithRetry() takes a tracker (with a gfn) or a subscription, not both',
    );
  }
  if (subscription === undefined) {
    checkIndex(opts.gfn, 'gfn');
    if (typeof tracker !== 'object' || tracker === null) {
      throw new TypeError('tracker must be an InvalidationTracker-like object');
    }
    checkFunction(tracker.snapshot, 'tracker.snapshot');
    checkFunction(tracker.retryGfn, 'tracker.retryGfn');
    checkFunction(tracker.retryGfnUnsafe, 'tracker.retryGfnUnsafe');
    if (opts.address !== undefined) {
      throw new TypeError('address is for a subscription fault; a tracker fault has a gfn');
    }
  } else {
    if (typeof subscription !== 'object' || subscription === null) {
      throw new TypeError('subscription must be an object with readBegin() and readRetry()');
    }
    checkFunction(subscription.readBegin, 'subscription.readBegin');
    checkFunction(subscription.readRetry, 'subscription.readRetry');
    if (subscription.tryReadBegin !== undefined) {
      checkFunction(subscription.tryReadBegin, 'subscription.tryReadBegin');
    }
    if (subscription.checkRetry !== undefined) {
      checkFunction(subscription.checkRetry, 'subscription.checkRetry');
    }
    if (opts.gfn !== undefined) {
      throw new TypeError('gfn is for a tracker fault; a subscription fault takes an address');
    }
    if (opts.address !== undefined) checkIndex(opts.address, 'address');
  }
  const takeLock = lockTakerOf(opts.lock);
  checkFunction(opts.resolve, 'resolve');
  checkFunction(opts.install, 'install');
  if (opts.put !== undefined) checkFunction(opts.put, 'put');
  if (opts.backoff !== undefined) checkFunction(opts.backoff, 'backoff');
  if (opts.maxRetries !== undefined && opts.maxRetries !== Number.POSITIVE_INFINITY) {
    checkIndex(opts.maxRetries, 'maxRetries');
  }
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw new TypeError('signal must be an AbortSignal');
  }
  if (opts.deadline !== undefined) {
    if (typeof opts.deadline !== 'number') {
      throw new TypeError(`deadline must be a number (Date.now() ms), got ${typeof opts.deadline}`);
    }
    if (Number.isNaN(opts.deadline)) throw new RangeError('deadline must not be NaN');
  }
  if (opts.precheck !== undefined && typeof opts.precheck !== 'boolean') {
    throw new TypeError('precheck must be a boolean');
  }
  return takeLock;
}

const ignore = (): void => {};

/**
 * Refuses what install() returned if it is a thenable: attaches no-op handlers to it (in a
 * microtask, so its `then` never runs under the lock) and throws AsyncInstallError. Reads `then`
 * once; a getter that throws propagates as install()'s own error. Allocates nothing unless it
 * throws.
 */
function checkInstallResult(result: unknown, gfn: number, address: number | undefined): void {
  if ((typeof result !== 'object' || result === null) && typeof result !== 'function') return;
  const then: unknown = (result as { then?: unknown }).then;
  if (typeof then !== 'function') return;
  queueMicrotask(() => {
    try {
      Reflect.apply(then, result, [ignore, ignore]);
    } catch {
      // A then() that throws has nothing left to observe.
    }
  });
  throw new AsyncInstallError(gfn, address);
}

/** Puts `page` after `error`, keeping both errors if put() throws too. */
function putAfterError<P>(put: ((page: P) => void) | undefined, page: P, error: unknown): never {
  if (put !== undefined) {
    try {
      put(page);
    } catch (putError) {
      throw new AggregateError([error, putError], 'fault failed, and put() of its page failed');
    }
  }
  throw error;
}

/**
 * Faults a page in: snapshot a sequence, resolve the page without the lock, take the lock, and
 * install only if no invalidation could have raced; otherwise release the lock, `put()` the page
 * and start over. This is KVM's page-fault flow (kvm_faultin_pfn() + is_page_fault_stale() + the
 * guest's re-fault) and the read side of an mmu interval notifier, packaged as one loop.
 *
 * The sequence comes from one of two sources:
 * - `tracker` + `gfn` (KVM): `seq = tracker.snapshot()`, lockless precheck
 *   `tracker.retryGfnUnsafe(seq, gfn)`, decisive check under the lock `tracker.retryGfn(seq, gfn)`;
 * - `subscription` (an interval subscription, e.g. mmu-notifier's `IntervalNotifier`):
 *   `seq = tryReadBegin()` if it has one and that does not return `undefined`, else
 *   `await readBegin()` (which may wait); lockless precheck `checkRetry(seq)` if it has one;
 *   decisive check under the lock `readRetry(seq)`. A `readBegin()` that throws or rejects (e.g.
 *   SubscriptionRemovedError once the subscription was removed) fails the fault with that very
 *   error, with nothing installed (and no page held: one resolved before was already put).
 *
 * Holds no lock on entry; takes `lock` once per attempt and never awaits anything else while
 * holding it. How it is taken, decided once per call:
 * - a lock with `tryLock()` and `unlock()` (a {@link UserLock}, SharedMmuLock, seqcount's
 *   `Mutex`): when free, with a synchronous `tryLock()` (no promise, no await) and dropped with
 *   `unlock()`; when held, with `acquire()` if it has one (SharedMmuLock: Atomics.waitAsync,
 *   never blocking the thread), else with `lock()` (awaited if it returns a promise; a blocking
 *   lock returns with the lock held). Only the lock's methods decide, never its class: a
 *   wrapper that must see every acquisition (to trace it) exposes `acquire()` and no `tryLock()`;
 * - a lock with only `acquire()` (an {@link MmuLock}, e.g. async-mutex): `await acquire()`, then
 *   the release function it resolved to.
 *
 * Failure paths: bad options reject with TypeError/RangeError before anything runs. A
 * `resolve()`, `readBegin()`, taking the lock, the check or `install()` that throws: the error
 * reaches the caller, the lock is released if it was taken, the resolved page (if any) is put(),
 * nothing is installed. An `install()` that returns a Promise or other thenable:
 * {@link AsyncInstallError}, handled the same way (see {@link FaultCommonOptions.install}). Too
 * many retries: FaultRetryLimitError. The signal fired: FaultAbortedError; the deadline passed:
 * FaultDeadlineError (both checked before each attempt, after a `readBegin()` that waited and
 * after each resolve, never while the lock is held).
 */
export async function faultWithRetry<P>(
  opts: FaultOptions<P> | SubscriptionFaultOptions<P>,
): Promise<FaultResult<P>> {
  const takeLock = checkOptions(opts);
  const { resolve, install, put } = opts;
  // Exactly one of the two sources (checked above). For a subscription there is no gfn: NaN in
  // the errors, which carry `address` instead.
  const sub = opts.subscription;
  const tracker = opts.tracker as FaultTracker; // only read when sub === undefined
  const gfn = sub === undefined ? (opts.gfn as number) : Number.NaN;
  const address = opts.address;
  const maxRetries = opts.maxRetries ?? Number.POSITIVE_INFINITY;
  const signal = opts.signal; // undefined: skip the checks (AbortSignal#aborted is not free)
  const resolveSignal = signal ?? NEVER_ABORTED;
  const backoff = opts.backoff ?? yieldMacrotask;
  const precheck = opts.precheck ?? true;
  const subPrecheck = precheck && sub !== undefined && sub.checkRetry !== undefined;
  const subTry = sub !== undefined && sub.tryReadBegin !== undefined;
  // undefined: no deadline, no Date.now() calls.
  const deadline = opts.deadline === Number.POSITIVE_INFINITY ? undefined : opts.deadline;

  for (let retries = 0; ; ) {
    if (signal?.aborted) throw new FaultAbortedError(gfn, retries, signal.reason, address);
    if (deadline !== undefined && Date.now() >= deadline) {
      throw new FaultDeadlineError(gfn, retries, deadline, address);
    }

    // Pairs with end()'s "seq before count" (tracker) / setSeq under the lock (subscription):
    // the snapshot is read before anything the page depends on, so an invalidation that changes
    // the page after this point is either still visible to the check or has moved the sequence.
    let seq: number;
    let lost: boolean;
    if (sub === undefined) {
      seq = tracker.snapshot();
      lost = precheck && tracker.retryGfnUnsafe(seq, gfn);
    } else {
      let s = subTry ? sub.tryReadBegin!() : undefined;
      if (s === undefined) {
        const begun = sub.readBegin();
        // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent: awaiting a number only adds a microtask before the abort and deadline checks.
        if (typeof begun === 'number') s = begun;
        else {
          s = await begun;
          if (signal?.aborted) throw new FaultAbortedError(gfn, retries, signal.reason, address);
          if (deadline !== undefined && Date.now() >= deadline) {
            throw new FaultDeadlineError(gfn, retries, deadline, address);
          }
        }
      }
      if (typeof s !== 'number') {
        throw new TypeError(`subscription.readBegin() must give a number, got ${typeof s}`);
      }
      seq = s;
      lost = subPrecheck && sub.checkRetry!(seq);
    }
    if (!lost) {
      const page = await resolve(resolveSignal);
      if (signal?.aborted) {
        putAfterError(put, page, new FaultAbortedError(gfn, retries, signal.reason, address));
      }
      if (deadline !== undefined && Date.now() >= deadline) {
        putAfterError(put, page, new FaultDeadlineError(gfn, retries, deadline, address));
      }
      lost =
        sub === undefined
          ? precheck && tracker.retryGfnUnsafe(seq, gfn)
          : subPrecheck && sub.checkRetry!(seq);
      if (!lost) {
        let release: () => void;
        try {
          const taken = takeLock();
          release = typeof taken === 'function' ? taken : await taken;
        } catch (error) {
          putAfterError(put, page, error);
        }
        try {
          // The decisive check: under the lock no invalidation can begin or end (tracker), or
          // set the subscription's sequence (subscription).
          lost = sub === undefined ? tracker.retryGfn(seq, gfn) : sub.readRetry(seq);
          if (!lost) {
            // Every way of taking the lock meets here, so every install goes through this one
            // check; a plain `undefined` skips it at the cost of a compare.
            const installed: unknown = install(page);
            // Stryker disable next-line ConditionalExpression: equivalent: checkInstallResult(undefined) returns at once; the test only saves a call.
            if (installed !== undefined) checkInstallResult(installed, gfn, address);
          }
        } catch (error) {
          release();
          putAfterError(put, page, error);
        }
        release();
        if (!lost) return { page, retries };
      }
      // KVM releases the pfn after dropping mmu_lock (kvm_mmu_finish_page_fault).
      put?.(page);
    }

    if (retries >= maxRetries) throw new FaultRetryLimitError(gfn, retries, address);
    retries++;
    const pending = backoff(retries);
    // Stryker disable next-line ConditionalExpression: equivalent: awaiting undefined only adds a microtask.
    if (pending !== undefined) await pending;
  }
}
