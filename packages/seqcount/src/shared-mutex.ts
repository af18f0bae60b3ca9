import { UnlockedReleaseError } from './errors.js';
import { int32View, waitWhileEqual } from './shared-buffer.js';

/** Lock word states (Drepper, "Futexes Are Tricky", 2011, mutex "take 3"). */
const UNLOCKED = 0;
const LOCKED = 1;
/** Locked, and some thread may be parked in Atomics.wait: unlock() must notify. */
const CONTENDED = 2;
/** How many times lock() retries a held, uncontended lock before parking in Atomics.wait. */
const SPINS = 64;

/**
 * A futex-style mutex in one Int32 word of a SharedArrayBuffer, for threads sharing memory.
 * The word is 0 (unlocked), 1 (locked, no waiters) or 2 (locked, maybe waiters); an uncontended
 * lock/unlock is two compareExchanges, and only contended unlocks call `Atomics.notify`. Like the kernel's (and glibc's) futex-based mutex; it records no owner, so
 * any thread may unlock it. Not recursive: locking it twice from one thread deadlocks.
 *
 * Layout (at `byteOffset`, {@link SharedMutex.BYTES} = 4 bytes, 4-byte aligned): word 0 = state.
 */
export class SharedMutex {
  /** Bytes used at `byteOffset`. */
  static readonly BYTES = 4;

  /** The SharedArrayBuffer holding the lock word. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the lock word in `buffer`. */
  readonly byteOffset: number;
  readonly #words: Int32Array;

  private constructor(words: Int32Array) {
    this.#words = words;
    this.buffer = words.buffer as SharedArrayBuffer;
    this.byteOffset = words.byteOffset;
  }

  /** A new unlocked mutex in a fresh SharedArrayBuffer. */
  static create(): SharedMutex {
    return new SharedMutex(new Int32Array(new SharedArrayBuffer(SharedMutex.BYTES)));
  }

  /**
   * View the mutex stored at `byteOffset` in `buffer`; a zero word is an unlocked mutex.
   * @throws TypeError / RangeError as `SharedSeqCount.from()`.
   */
  static from(buffer: SharedArrayBuffer, byteOffset = 0): SharedMutex {
    return new SharedMutex(int32View('SharedMutex.from', buffer, byteOffset, SharedMutex.BYTES));
  }

  /** True while some thread holds the mutex (a snapshot). */
  get locked(): boolean {
    return Atomics.load(this.#words, 0) !== UNLOCKED;
  }

  /** Take the mutex if it is free; never waits. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#words, 0, UNLOCKED, LOCKED) === UNLOCKED;
  }

  /**
   * Take the mutex, blocking the thread while another thread holds it: a short spin while the
   * holder is alone (held, no waiters), then `Atomics.wait`.
   * On Node's main thread this stalls the event loop: use {@link lockAsync} there.
   * May wait for: the current holder's unlock().
   */
  lock(): void {
    const w = this.#words;
    let c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return;
    // Short critical sections often end within a few hundred ns: retry before paying for a
    // park and a notify. Stop spinning once others are parked (state 2): queue behind them.
    for (let i = 0; i < SPINS && c === LOCKED; i++) {
      c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
      if (c === UNLOCKED) return;
    }
    // Announce a waiter (state 2) before parking, so the holder's unlock() notifies. Exchange
    // (not store) tells us whether the lock was released meanwhile, in which case we now own it
    // (in state 2: one spurious notify later is harmless).
    if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
    while (c !== UNLOCKED) {
      Atomics.wait(w, 0, CONTENDED);
      c = Atomics.exchange(w, 0, CONTENDED);
    }
  }

  /**
   * {@link lock} for asynchronous code: waits with `Atomics.waitAsync`, never blocks the thread.
   * While it waits, a ref'd timer keeps Node's event loop alive (a pending waitAsync alone does
   * not), so a worker whose only work is this wait stays alive until it gets the mutex.
   * Uncontended it is one compareExchange and an already-resolved promise (no timer).
   * May wait for: the current holder's unlock().
   */
  async lockAsync(): Promise<void> {
    const w = this.#words;
    let c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return;
    if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
    while (c !== UNLOCKED) {
      await waitWhileEqual(w, 0, CONTENDED);
      c = Atomics.exchange(w, 0, CONTENDED);
    }
  }

  /**
   * Release the mutex and wake one waiter if there may be any.
   * @throws UnlockedReleaseError if the mutex is not locked (state unchanged).
   */
  unlock(): void {
    const w = this.#words;
    // 1 -> 0: nobody waits, done in one RMW.
    const c = Atomics.compareExchange(w, 0, LOCKED, UNLOCKED);
    if (c === LOCKED) return;
    if (c === UNLOCKED) {
      throw new UnlockedReleaseError('SharedMutex.unlock(): the mutex is not locked');
    }
    // 2: waiters may be parked. Only the holder moves the word away from 2 (waiters only write
    // 2, and lock attempts only swap 0 for 1), so storing 0 releases it; then wake one waiter.
    Atomics.store(w, 0, UNLOCKED);
    Atomics.notify(w, 0, 1);
  }
}
