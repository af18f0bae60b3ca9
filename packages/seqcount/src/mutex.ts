import { UnlockedReleaseError } from './errors.js';
import type { LockLike } from './lock-like.js';

/**
 * A FIFO mutex for one thread (async code), the kernel's sleeping `struct mutex` here: `lock()`
 * resolves when the caller owns it, `tryLock()` takes it only if it is free, `unlock()` hands it
 * directly to the oldest waiter (it stays locked, so nobody can barge in between: a waiter is
 * never overtaken, and `tryLock()` fails while anyone waits).
 *
 * The user lock of a secondary MMU: hold it around the fault path's retry check + install and
 * around the invalidate callback's `setSeq` + zap. The non-blockable path of a callback uses
 * `tryLock()` and answers EAGAIN when it fails. It has the shape `SharedMutex` has
 * (`tryLock()`/`lock()`/`unlock()`, where `SharedMutex.lock()` blocks the thread instead), and
 * `acquire()` for APIs that take an async-mutex-style lock.
 *
 * A free lock costs no promise with `tryLock()`; `lock()` on a free lock returns a resolved
 * promise (one microtask for the caller's `await`).
 */
export class Mutex implements LockLike {
  #locked = false;
  readonly #waiters: Array<() => void> = [];

  /** True while someone owns the mutex. */
  get locked(): boolean {
    return this.#locked;
  }

  /** Number of callers waiting in `lock()`. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Takes the mutex if it is free, at once; false if it is held (nothing queued). */
  tryLock(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  /**
   * Resolves once the caller owns the mutex; waiters are served in arrival order. Like
   * `mutex_lock()`. Never call it while already holding the mutex (it would wait forever).
   */
  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /**
   * Releases the mutex; ownership passes to the oldest waiter, if any. Like `mutex_unlock()`.
   * @throws UnlockedReleaseError if the mutex is not locked (nothing changes).
   */
  unlock(): void {
    if (!this.#locked) throw new UnlockedReleaseError('unlock(): the mutex is not locked');
    const next = this.#waiters.shift();
    if (next === undefined) this.#locked = false;
    else next();
  }

  /**
   * `lock()`, resolving to a function that unlocks (the shape of async-mutex's `acquire()`,
   * which `MmuLock` consumers expect). The function unlocks once; later calls do nothing.
   */
  async acquire(): Promise<() => void> {
    await this.lock();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.unlock();
    };
  }

  /** Runs `fn` holding the mutex (waits for it first) and unlocks when `fn` settles. */
  async runExclusive<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('runExclusive: fn must be a function');
    // Stryker disable next-line ConditionalExpression: equivalent: lock() takes a free mutex too; tryLock() only skips its promise.
    if (!this.tryLock()) await this.lock();
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }
}
