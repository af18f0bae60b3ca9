import { checkSharedRegion, SharedMutex, UnlockedReleaseError } from '@mmukit/seqcount';
import { LockNotHeldError } from './errors.js';
import type { MmuLock } from './mmu-lock.js';

/**
 * A fair (FIFO) exclusive lock in 4 bytes of a SharedArrayBuffer, usable from every worker
 * thread and the main thread: the MMU lock of a {@link SharedInvalidationTracker}.
 *
 * The lock word and its protocol are `@mmukit/seqcount`'s `SharedMutex`, a ticket lock whose
 * waiters park in Atomics.wait/waitAsync: threads get the lock in the order they asked for it,
 * and a turn nobody claims within 1 s (a waiter terminated meanwhile) is skipped. This class adds
 * the {@link MmuLock} interface and this package's error type.
 *
 * - `lock()` / `unlock()` block (a short spin when next in line, then Atomics.wait): for workers
 *   (Node also allows them on the main thread, browsers do not).
 * - `acquire()` waits with Atomics.waitAsync and resolves to a release function, so the lock
 *   satisfies {@link MmuLock} and works with faultWithRetry() on any thread.
 *
 * Taking the lock is an Atomics read-modify-write and releasing it an Atomics store/RMW, all
 * sequentially consistent: everything a holder wrote before unlocking (plain or Atomics) happens
 * before everything the next holder reads after locking. Not re-entrant, no owner tracking: any
 * thread may unlock, as with a kernel spinlock, so only the holder should.
 */
export class SharedMmuLock implements MmuLock {
  /** Bytes used in the buffer (one Int32). */
  static readonly BYTE_LENGTH = SharedMutex.BYTES;

  /** The buffer holding the lock word; post it to a worker and rebuild there with from(). */
  readonly buffer: SharedArrayBuffer;
  /** Offset of the lock word in `buffer`. */
  readonly byteOffset: number;
  readonly #mutex: SharedMutex;

  /** Allocates a new, unlocked lock in its own SharedArrayBuffer. */
  static create(): SharedMmuLock {
    return new SharedMmuLock(new SharedArrayBuffer(SharedMmuLock.BYTE_LENGTH), 0);
  }

  /**
   * Attaches to the lock word at `byteOffset` (a multiple of 4) of `buffer`. A zero-filled word
   * is an unlocked lock, so a region of a larger buffer needs no initialisation.
   * @throws TypeError if `buffer` is not a SharedArrayBuffer or `byteOffset` not a number.
   * @throws RangeError if `byteOffset` is negative, fractional, not a multiple of 4, or leaves
   *   fewer than 4 bytes.
   */
  static from(buffer: SharedArrayBuffer, byteOffset = 0): SharedMmuLock {
    return new SharedMmuLock(buffer, byteOffset);
  }

  /** Same as {@link SharedMmuLock.from}. */
  constructor(buffer: SharedArrayBuffer, byteOffset = 0) {
    checkSharedRegion('SharedMmuLock', buffer, byteOffset, SharedMmuLock.BYTE_LENGTH, 4);
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.#mutex = SharedMutex.from(buffer, byteOffset);
  }

  /** Whether some thread holds the lock (a racy snapshot, for tests and assertions). */
  get locked(): boolean {
    return this.#mutex.locked;
  }

  /** Takes the lock if it is free; never waits. */
  tryLock(): boolean {
    return this.#mutex.tryLock();
  }

  /**
   * Takes the lock, blocking the thread (a short spin when next in line, then Atomics.wait)
   * until the holder and the threads queued before this one have released it.
   */
  lock(): void {
    this.#mutex.lock();
  }

  /**
   * Releases the lock, passing it to the next waiter in line (woken if any waits).
   * @throws LockNotHeldError if the lock is not held (state unchanged).
   */
  unlock(): void {
    try {
      this.#mutex.unlock();
    } catch (error) {
      // Stryker disable next-line ConditionalExpression: equivalent: SharedMutex.unlock() throws nothing but UnlockedReleaseError.
      if (error instanceof UnlockedReleaseError) throw new LockNotHeldError();
      throw error;
    }
  }

  /**
   * Takes the lock without blocking the thread: waits with Atomics.waitAsync (keeping a worker's
   * event loop alive meanwhile). Resolves to a release function that must be called exactly once
   * (a second call throws LockNotHeldError, even if another holder has the lock by then).
   */
  async acquire(): Promise<() => void> {
    // The free case skips lockAsync()'s promise: one CAS, then the releaser.
    // Stryker disable next-line ConditionalExpression: equivalent: lockAsync() takes a free lock too; tryLock() only skips its promise.
    if (!this.#mutex.tryLock()) await this.#mutex.lockAsync();
    let released = false;
    return () => {
      if (released) throw new LockNotHeldError('the release function (a second time)');
      released = true;
      this.unlock();
    };
  }
}
