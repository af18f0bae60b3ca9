import { checkLockLike, type LockLike } from '@mmukit/seqcount';
import type { IntervalNotifier, IntervalNotifierOps } from './interval-notifier.js';
import type { MmuNotifierRange } from './range.js';

/**
 * The user lock of a secondary MMU: what its fault path holds around `readRetry` + install, and
 * its invalidate callback around `setSeq` + zap. `@mmukit/seqcount`'s `LockLike`: its `Mutex` and
 * `SharedMutex` fit, and so does any lock with `tryLock()`, `lock()` and `unlock()`.
 */
export type NotifierLock = LockLike;

/**
 * The part of `range` that `sub` covers, as an inclusive `[first, last]` pair: the addresses
 * whose secondary mappings an `invalidate` callback must drop. `range` must overlap `sub` (the
 * core only calls `invalidate` for overlapping subscriptions).
 */
export function clipRange(sub: IntervalNotifier, range: MmuNotifierRange): [number, number] {
  return [Math.max(sub.start, range.start), Math.min(sub.last, range.end - 1)];
}

/** Options of {@link invalidateOps}. */
export interface InvalidateOpsOptions {
  /** The user lock; the fault path must hold the same one around `readRetry` + install. */
  lock: NotifierLock;
  /**
   * Drops every secondary mapping of the inclusive address range `[first, last]` (already
   * clipped to the subscription). Runs under the lock, synchronously: a returned promise is not
   * awaited. A throw is reported by the core as this callback failing (the lock is released).
   */
  zap(first: number, last: number, range: MmuNotifierRange, sub: IntervalNotifier): void;
  /**
   * This device's identity. An invalidation whose `range.owner` is this value and whose event is
   * `'migrate'` or `'exclusive'` was caused by the device itself (it moves its own pages and
   * updates its table as part of that): it is acknowledged without taking the lock, setting the
   * seq or zapping, as the kernel's test_hmm driver does.
   */
  owner?: unknown;
}

/**
 * Builds the `invalidate` callback every mirror writes by hand, following each rule:
 * non-blockable ranges take the lock with `tryLock()` or return `false` (EAGAIN) without
 * waiting; blockable ranges wait for it with `lock()`; then, under the lock,
 * `setSeq(curSeq)` unconditionally, `zap` of the part of the range the subscription covers, and
 * unlock (also when `zap` throws, whose error the core reports). Like the invalidate callback of
 * the kernel's test_hmm "dmirror" driver.
 *
 * ```ts
 * const sub = mm.insertInterval(start, length, invalidateOps({ lock, zap: (a, b) => tlb.drop(a, b) }));
 * ```
 * @throws TypeError if `lock` lacks `tryLock`/`lock`/`unlock` or `zap` is not a function.
 */
export function invalidateOps(options: InvalidateOpsOptions): IntervalNotifierOps {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('invalidateOps: options must be an object');
  }
  const { lock, zap, owner } = options;
  checkLockLike(lock, 'invalidateOps');
  if (typeof zap !== 'function') throw new TypeError('invalidateOps: zap must be a function');
  const hasOwner = owner !== undefined;

  // Under the lock: the fault path's readRetry + install cannot run between setSeq and zap.
  const locked = (sub: IntervalNotifier, range: MmuNotifierRange, curSeq: number): true => {
    try {
      sub.setSeq(curSeq);
      zap(Math.max(sub.start, range.start), Math.min(sub.last, range.end - 1), range, sub);
    } finally {
      lock.unlock();
    }
    return true;
  };

  return {
    invalidate(sub, range, curSeq) {
      if (hasOwner && range.owner === owner && isOwnEvent(range)) return true;
      if (lock.tryLock()) return locked(sub, range, curSeq);
      if (!range.blockable) return false; // would have to wait: EAGAIN
      const waiting = lock.lock();
      if (waiting === undefined) return locked(sub, range, curSeq); // a blocking lock
      return Promise.resolve(waiting).then(() => locked(sub, range, curSeq));
    },
  };
}

function isOwnEvent(range: MmuNotifierRange): boolean {
  return range.event === 'migrate' || range.event === 'exclusive';
}

/** Options of {@link teardownInterval}. */
export interface TeardownOptions {
  /** The user lock the fault path holds around `readRetry` + install. */
  lock: NotifierLock;
  /** Drops every secondary mapping of `[first, last]` (the whole subscription), synchronously. */
  zap(first: number, last: number): void;
}

/**
 * Drops an interval subscription while faults may still be in flight, leaving no window in
 * which the device holds a translation that nothing would invalidate. In one hold of the lock:
 *
 * 1. `sub.remove()` is called: from that moment `readRetry`/`checkRetry` of every seq read before
 *    are true and `readBegin` throws `SubscriptionRemovedError`, so no fault can install any
 *    more (a fault in flight retries and fails cleanly);
 * 2. `zap` drops everything the subscription covers: what faults installed before.
 *
 * Then, with the lock released (invalidate callbacks of a pending removal need it), it waits for
 * the removal to complete. When it resolves the secondary holds no translation of the
 * subscription and will not get one, and `invalidate` will not be called again: free the
 * device's resources. Not from inside a notifier callback (as `remove()`).
 *
 * Removing first and zapping only after `remove()` resolved leaves a window (the subscription is
 * gone, the translations are not, and a change of the primary reaches nobody); zapping first and
 * removing after an await lets a fault install in between.
 * @throws as `remove()` (rejections; the zap has run); TypeError for bad options (before
 *   anything changes).
 */
export async function teardownInterval(
  sub: IntervalNotifier,
  options: TeardownOptions,
): Promise<void> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('teardownInterval: options must be an object');
  }
  const { lock, zap } = options;
  checkLockLike(lock, 'teardownInterval');
  if (typeof zap !== 'function') throw new TypeError('teardownInterval: zap must be a function');
  if (!lock.tryLock()) await lock.lock();
  let removal: Promise<void>;
  try {
    // Pairs with the fault path's readRetry under this lock: remove() retires every earlier
    // read synchronously, so no fault that takes the lock after this hold can install.
    removal = sub.remove();
    zap(sub.start, sub.last);
  } finally {
    lock.unlock();
  }
  await removal;
}
