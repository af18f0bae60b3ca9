import { LockNotHeldError } from './errors.js';
import type { MmuLock } from './mmu-lock.js';
import { checkSharedRegion } from './shared-buffer.js';

// Lock word states (U. Drepper, "Futexes Are Tricky", mutex #3).
const UNLOCKED = 0;
const LOCKED = 1; // held, nobody waits
const CONTENDED = 2; // held, someone may be waiting: unlock must notify
const SPINS = 64;
const KEEP_ALIVE_MS = 2 ** 30;
const noop = () => {};

/**
 * A futex-style exclusive lock in 4 bytes of a SharedArrayBuffer, usable from every worker
 * thread and the main thread: the MMU lock of a {@link SharedInvalidationTracker}.
 *
 * - `lock()` / `unlock()` block (Atomics.wait): for workers (Node also allows them on the main
 *   thread, browsers do not).
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
  static readonly BYTE_LENGTH = 4;

  /** The buffer holding the lock word; post it to a worker and rebuild there with from(). */
  readonly buffer: SharedArrayBuffer;
  /** Offset of the lock word in `buffer`. */
  readonly byteOffset: number;
  readonly #word: Int32Array;

  /** Allocates a new, unlocked lock in its own SharedArrayBuffer. */
  static create(): SharedMmuLock {
    return new SharedMmuLock(new SharedArrayBuffer(SharedMmuLock.BYTE_LENGTH), 0);
  }

  /**
   * Attaches to the lock word at `byteOffset` (a multiple of 4) of `buffer`. A zero-filled word
   * is an unlocked lock, so a region of a larger buffer needs no initialisation.
   */
  static from(buffer: SharedArrayBuffer, byteOffset = 0): SharedMmuLock {
    return new SharedMmuLock(buffer, byteOffset);
  }

  /** Same as {@link SharedMmuLock.from}. */
  constructor(buffer: SharedArrayBuffer, byteOffset = 0) {
    checkSharedRegion(buffer, byteOffset, SharedMmuLock.BYTE_LENGTH, 4, 'SharedMmuLock');
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.#word = new Int32Array(buffer, byteOffset, 1);
  }

  /** Whether some thread holds the lock (a racy snapshot, for tests and assertions). */
  get locked(): boolean {
    return Atomics.load(this.#word, 0) !== UNLOCKED;
  }

  /** Takes the lock if it is free; never waits. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#word, 0, UNLOCKED, LOCKED) === UNLOCKED;
  }

  /** Takes the lock, blocking the thread (Atomics.wait) while another thread holds it. */
  lock(): void {
    const w = this.#word;
    let c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return;
    for (let i = 0; i < SPINS && c === LOCKED; i++) {
      c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
      if (c === UNLOCKED) return;
    }
    // Announce a waiter; whoever unlocks from CONTENDED notifies. The wait returns at once if
    // the word is no longer CONTENDED, so a wakeup between the exchange and the wait is not lost.
    if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
    while (c !== UNLOCKED) {
      Atomics.wait(w, 0, CONTENDED);
      c = Atomics.exchange(w, 0, CONTENDED);
    }
  }

  /**
   * Releases the lock and wakes one waiter if any may be waiting.
   * @throws LockNotHeldError if the lock is not held (state unchanged).
   */
  unlock(): void {
    const w = this.#word;
    const c = Atomics.compareExchange(w, 0, LOCKED, UNLOCKED);
    if (c === LOCKED) return;
    if (c === UNLOCKED) throw new LockNotHeldError();
    // CONTENDED: only the holder moves the word away from CONTENDED, so a plain store is safe.
    Atomics.store(w, 0, UNLOCKED);
    Atomics.notify(w, 0, 1);
  }

  /**
   * Takes the lock without blocking the thread: waits with Atomics.waitAsync. Resolves to a
   * release function that must be called exactly once (a second call throws LockNotHeldError).
   */
  async acquire(): Promise<() => void> {
    const w = this.#word;
    let c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
    if (c !== UNLOCKED) {
      if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
      if (c !== UNLOCKED) {
        // A pending waitAsync does not keep Node's event loop alive: without a ref'd timer a
        // worker whose only work is this wait would exit instead of taking the lock.
        const keepAlive = setInterval(noop, KEEP_ALIVE_MS);
        try {
          while (c !== UNLOCKED) {
            const waited = Atomics.waitAsync(w, 0, CONTENDED);
            if (waited.async) await waited.value;
            c = Atomics.exchange(w, 0, CONTENDED);
          }
        } finally {
          clearInterval(keepAlive);
        }
      }
    }
    let released = false;
    return () => {
      if (released) throw new LockNotHeldError('the release function (a second time)');
      released = true;
      this.unlock();
    };
  }
}
