import { AsyncInstallError, FaultAbortedError, FaultRetryLimitError } from './errors.js';
import type { MmuLock } from './mmu-lock.js';
import { SharedMmuLock } from './shared-mmu-lock.js';
import type { InvalidationTrackerLike } from './tracker-like.js';
import { checkFunction, checkIndex } from './validate.js';

/** What faultWithRetry() needs of a tracker: the snapshot and the two gfn checks. */
export type FaultTracker = Pick<
  InvalidationTrackerLike,
  'snapshot' | 'retryGfn' | 'retryGfnUnsafe'
>;

/** Options of {@link faultWithRetry}. */
export interface FaultOptions<P> {
  /** The address space's tracker (InvalidationTracker or SharedInvalidationTracker). */
  tracker: FaultTracker;
  /** The guest frame number being faulted in: a safe integer >= 0. */
  gfn: number;
  /** The MMU lock the invalidator holds around begin()/end(). */
  lock: MmuLock;
  /**
   * Resolves the page for `gfn` from the primary MMU. Runs without the lock and may sleep.
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
   * Awaited before each retry, with the number of retries so far (1 for the first retry).
   * Default: yield one macrotask (setImmediate/setTimeout), so that an invalidator waiting on a
   * timer or I/O can reach end() instead of being starved by a retry loop made of microtasks.
   * Pass `() => {}` to retry at once, or a scheduler hook in tests.
   */
  backoff?: (retries: number) => void | Promise<void>;
  /**
   * Run the lockless retryGfnUnsafe() before resolving and again before taking the lock, to
   * skip work that is certain to be wasted (default true, as KVM's kvm_faultin_pfn does).
   */
  precheck?: boolean;
}

/** Result of {@link faultWithRetry}: the installed page and how many retries it took. */
export interface FaultResult<P> {
  page: P;
  retries: number;
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;

const yieldMacrotask: (retries: number) => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise<void>((resolve) => setImmediate(resolve))
    : () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function checkOptions<P>(opts: FaultOptions<P>): void {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError('faultWithRetry() needs an options object');
  }
  checkIndex(opts.gfn, 'gfn');
  const { tracker, lock } = opts;
  if (typeof tracker !== 'object' || tracker === null) {
    throw new TypeError('tracker must be an InvalidationTracker-like object');
  }
  checkFunction(tracker.snapshot, 'tracker.snapshot');
  checkFunction(tracker.retryGfn, 'tracker.retryGfn');
  checkFunction(tracker.retryGfnUnsafe, 'tracker.retryGfnUnsafe');
  if (typeof lock !== 'object' || lock === null) {
    throw new TypeError('lock must be an object with acquire(): Promise<() => void>');
  }
  checkFunction(lock.acquire, 'lock.acquire');
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
  if (opts.precheck !== undefined && typeof opts.precheck !== 'boolean') {
    throw new TypeError('precheck must be a boolean');
  }
}

const ignore = (): void => {};

/**
 * Refuses what install() returned if it is a thenable: attaches no-op handlers to it (in a
 * microtask, so its `then` never runs under the lock) and throws AsyncInstallError. Reads `then`
 * once; a getter that throws propagates as install()'s own error. Allocates nothing unless it
 * throws.
 */
function checkInstallResult(result: unknown, gfn: number): void {
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
  throw new AsyncInstallError(gfn);
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
 * Faults `gfn` in: snapshot `seq`, resolve the page without the lock, take the lock, and install
 * only if no invalidation could have raced (`retryGfn` is false); otherwise release the lock,
 * `put()` the page and start over. This is KVM's page-fault flow (kvm_faultin_pfn() +
 * is_page_fault_stale() + the guest's re-fault), packaged as a loop.
 *
 * Holds no lock on entry; takes `lock` once per attempt and never awaits anything else while
 * holding it. Waits for `resolve()`, the lock, and `backoff` between attempts. A free
 * {@link SharedMmuLock} (that exact class) is taken with `tryLock()` and dropped with `unlock()`,
 * without awaiting `acquire()`; any other lock, or a held one, goes through `acquire()`.
 *
 * Failure paths: bad options reject with TypeError/RangeError before anything runs. A
 * `resolve()`, `lock.acquire()` or `install()` that throws: the error reaches the caller, the
 * lock is released if it was taken, the resolved page (if any) is put(), nothing is installed.
 * An `install()` that returns a Promise or other thenable: {@link AsyncInstallError}, handled the
 * same way (see {@link FaultOptions.install}). Too many retries: FaultRetryLimitError. The
 * signal fired: FaultAbortedError (checked before each attempt and after each resolve, never
 * while the lock is held).
 */
export async function faultWithRetry<P>(opts: FaultOptions<P>): Promise<FaultResult<P>> {
  checkOptions(opts);
  const { tracker, gfn, lock, resolve, install, put } = opts;
  const maxRetries = opts.maxRetries ?? Number.POSITIVE_INFINITY;
  const signal = opts.signal; // undefined: skip the checks (AbortSignal#aborted is not free)
  const resolveSignal = signal ?? NEVER_ABORTED;
  const backoff = opts.backoff ?? yieldMacrotask;
  const precheck = opts.precheck ?? true;
  // Fast path for this package's own lock (exactly SharedMmuLock, so a subclass that wraps
  // acquire() still goes through it): when the lock is free, take it with one synchronous CAS
  // and drop it with unlock(): no promise, no await, no release closure. Otherwise acquire().
  const direct =
    Object.getPrototypeOf(lock) === SharedMmuLock.prototype ? (lock as SharedMmuLock) : undefined;

  for (let retries = 0; ; ) {
    if (signal?.aborted) throw new FaultAbortedError(gfn, retries, signal.reason);

    // Pairs with end()'s "seq before count": the snapshot is read before anything the page
    // depends on, so an invalidation that changes the page after this point either is still
    // counted in inProgress when we check, or has bumped seq past this value.
    const seq = tracker.snapshot();
    let lost = precheck && tracker.retryGfnUnsafe(seq, gfn);
    if (!lost) {
      const page = await resolve(resolveSignal);
      if (signal?.aborted) {
        putAfterError(put, page, new FaultAbortedError(gfn, retries, signal.reason));
      }
      lost = precheck && tracker.retryGfnUnsafe(seq, gfn);
      if (!lost) {
        // undefined: held through direct.tryLock(), to be dropped with direct.unlock().
        let release: (() => void) | undefined;
        if (direct === undefined || !direct.tryLock()) {
          try {
            release = await lock.acquire();
          } catch (error) {
            putAfterError(put, page, error);
          }
          if (typeof release !== 'function') {
            putAfterError(
              put,
              page,
              new TypeError('lock.acquire() must resolve to a release function'),
            );
          }
        }
        try {
          // The decisive check: under the lock no invalidation can begin or end.
          lost = tracker.retryGfn(seq, gfn);
          if (!lost) {
            // Both ways of taking the lock (tryLock() and acquire()) meet here, so every install
            // goes through this one check; a plain `undefined` skips it at the cost of a compare.
            const installed: unknown = install(page);
            if (installed !== undefined) checkInstallResult(installed, gfn);
          }
        } catch (error) {
          if (release === undefined) direct!.unlock();
          else release();
          putAfterError(put, page, error);
        }
        if (release === undefined) direct!.unlock();
        else release();
        if (!lost) return { page, retries };
      }
      // KVM releases the pfn after dropping mmu_lock (kvm_mmu_finish_page_fault).
      put?.(page);
    }

    if (retries >= maxRetries) throw new FaultRetryLimitError(gfn, retries);
    retries++;
    const pending = backoff(retries);
    if (pending !== undefined) await pending;
  }
}
