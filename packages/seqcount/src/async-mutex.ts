import { UnlockedReleaseError } from './errors.js';

/**
 * A minimal FIFO mutex for one thread: `lock()` resolves when the caller owns the mutex,
 * `unlock()` hands it directly to the oldest waiter. Used to serialize {@link SeqLock} and
 * {@link SeqCountLatch} writers (the kernel's `seqlock_t` embeds a spinlock for the same job).
 * Internal; not part of the public API.
 */
export class AsyncMutex {
  #locked = false;
  readonly #waiters: Array<() => void> = [];

  get locked(): boolean {
    return this.#locked;
  }

  /** Take the mutex without waiting; false if it is held. */
  tryLock(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  /** Resolves once the caller owns the mutex; waiters are served in arrival order. */
  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Release the mutex; ownership passes to the oldest waiter, if any (it stays locked). */
  unlock(): void {
    if (!this.#locked) throw new UnlockedReleaseError('unlock(): the mutex is not locked');
    const next = this.#waiters.shift();
    if (next === undefined) this.#locked = false;
    else next();
  }
}
