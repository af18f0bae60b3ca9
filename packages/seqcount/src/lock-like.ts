/**
 * The shape of an exclusive lock that can be taken synchronously when free: `Mutex` (async
 * `lock()`) and `SharedMutex` (blocking `lock()`) both have it. Structural: any object with
 * these three methods fits. It is the "user lock" a secondary MMU holds around its final retry
 * check and install, and its invalidation around the sequence update and the zap.
 */
export interface LockLike {
  /** Takes the lock if it is free, at once; `false` (and nothing taken) if it is held. */
  tryLock(): boolean;
  /**
   * Takes the lock, waiting while it is held: either by returning a promise (or any thenable)
   * that settles once the caller holds it, or by blocking the thread and returning `undefined`
   * with the lock held (a lock over a SharedArrayBuffer, in a worker).
   */
  lock(): void | PromiseLike<void>;
  /** Releases the lock taken with `tryLock()` or `lock()`. */
  unlock(): void;
}

/**
 * Checks that `lock` has the three {@link LockLike} methods.
 * @param lock - the value to check.
 * @param caller - the function that needs the lock, named first in the message.
 * @throws TypeError `<caller>: lock must have tryLock(), lock() and unlock()` otherwise.
 */
export function checkLockLike(lock: unknown, caller: string): asserts lock is LockLike {
  const l = lock as Partial<LockLike> | null;
  if (
    typeof l !== 'object' ||
    l === null ||
    typeof l.tryLock !== 'function' ||
    typeof l.lock !== 'function' ||
    typeof l.unlock !== 'function'
  ) {
    throw new TypeError(`${caller}: lock must have tryLock(), lock() and unlock()`);
  }
}
