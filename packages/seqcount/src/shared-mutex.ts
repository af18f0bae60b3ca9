import { UnlockedReleaseError } from './errors.js';
import type { LockLike } from './lock-like.js';
import { int32View, waitWhileEqual } from './shared-buffer.js';
import {
  ACQUIRED,
  HELD,
  hasWaitersAfterTurn,
  isFree,
  passTurn,
  Turn,
  tryClaimFree,
} from './ticket-turn.js';

/** How many times lock() re-reads the word, when it is next in line, before parking. */
const SPINS = 64;
/** Default of {@link SharedMutexOptions.claimTimeoutMs}. */
const DEFAULT_CLAIM_TIMEOUT_MS = 1000;

/** Options for {@link SharedMutex} (per view: they govern how this view's callers wait). */
export interface SharedMutexOptions {
  /**
   * How long (ms) a waiting thread lets the turn of a thread ahead of it stay unclaimed before
   * it skips that thread, presumed terminated or stalled (for instance a `lockAsync()` waiter
   * whose event loop is busy). A skipped thread that is still alive queues again at the back.
   * A non-negative number; `Infinity` never skips: strictly FIFO, but a thread terminated while
   * it waits then blocks the mutex for good, as one terminated while holding it does. Default 1000.
   */
  readonly claimTimeoutMs?: number;
}

/** Validate {@link SharedMutexOptions.claimTimeoutMs}; messages start with `who`. */
export function claimTimeoutOf(who: string, options?: SharedMutexOptions): number {
  const ms = options?.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
  if (typeof ms !== 'number') {
    throw new TypeError(`${who}: claimTimeoutMs must be a number, got ${typeof ms}`);
  }
  if (!(ms >= 0)) {
    throw new RangeError(`${who}: claimTimeoutMs must be a non-negative number, got ${ms}`);
  }
  return ms;
}

/**
 * A fair (FIFO) mutex in one Int32 word of a SharedArrayBuffer, for threads sharing memory: a
 * ticket lock whose waiters park in `Atomics.wait`/`waitAsync`. Threads get the mutex in the
 * order they asked for it, so a thread that releases it and asks again queues behind the threads
 * already waiting (the kernel's spinlocks are FIFO the same way). A turn that a waiter does not
 * claim within `claimTimeoutMs` is skipped, so a terminated waiter does not block the others.
 * It records no owner, so any thread may unlock it. Not recursive: locking it twice from one
 * thread deadlocks.
 *
 * Layout (at `byteOffset`, {@link SharedMutex.BYTES} = 4 bytes, 4-byte aligned): word 0 =
 * next ticket (bits 16..31), ticket served (bits 1..15), claimed by its holder (bit 0); all zero
 * is an unlocked mutex. Up to 32767 threads (or pending `lockAsync()` calls) can wait in order.
 */
export class SharedMutex implements LockLike {
  /** Bytes used at `byteOffset`. */
  static readonly BYTES = 4;

  /** The SharedArrayBuffer holding the lock word. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the lock word in `buffer`. */
  readonly byteOffset: number;
  readonly #words: Int32Array;
  readonly #claimTimeoutMs: number;
  /** lock()'s place in line, reused: a thread blocked in lock() cannot call it again meanwhile. */
  readonly #blockingTurn: Turn;

  private constructor(words: Int32Array, claimTimeoutMs: number) {
    this.#words = words;
    this.#claimTimeoutMs = claimTimeoutMs;
    this.#blockingTurn = new Turn(words, claimTimeoutMs);
    this.buffer = words.buffer as SharedArrayBuffer;
    this.byteOffset = words.byteOffset;
  }

  /**
   * A new unlocked mutex in a fresh SharedArrayBuffer.
   * @throws TypeError / RangeError for a bad `claimTimeoutMs`.
   */
  static create(options?: SharedMutexOptions): SharedMutex {
    const ms = claimTimeoutOf('SharedMutex.create', options);
    return new SharedMutex(new Int32Array(new SharedArrayBuffer(SharedMutex.BYTES)), ms);
  }

  /**
   * View the mutex stored at `byteOffset` in `buffer`; a zero word is an unlocked mutex.
   * Options are per view (not shared).
   * @throws TypeError / RangeError as `SharedSeqCount.from()`, or for a bad `claimTimeoutMs`.
   */
  static from(
    buffer: SharedArrayBuffer,
    byteOffset = 0,
    options?: SharedMutexOptions,
  ): SharedMutex {
    const words = int32View('SharedMutex.from', buffer, byteOffset, SharedMutex.BYTES);
    return new SharedMutex(words, claimTimeoutOf('SharedMutex.from', options));
  }

  /**
   * True while some thread holds the mutex or the turn has passed to a waiter that has not
   * claimed it yet, i.e. while tryLock() would fail (a snapshot).
   */
  get locked(): boolean {
    return !isFree(Atomics.load(this.#words, 0));
  }

  /** Take the mutex if nobody holds it or waits for it; never waits. */
  tryLock(): boolean {
    return tryClaimFree(this.#words);
  }

  /**
   * Take the mutex, blocking the thread until every thread that asked before has had it: a
   * short spin when next in line, then `Atomics.wait`. On Node's main thread this stalls the
   * event loop: use {@link lockAsync} there (and never block in lock() on a thread whose own
   * lockAsync() is pending: it queues behind that call, which cannot run until skipped).
   * May wait for: the holder, and each thread queued ahead, to release the mutex.
   */
  lock(): void {
    const w = this.#words;
    // Stryker disable next-line ConditionalExpression: equivalent: a fast path; the ticket path below takes a free mutex too.
    if (tryClaimFree(w)) return;
    const turn = this.#blockingTurn;
    turn.queue();
    for (;;) {
      const ms = turn.step();
      if (ms === ACQUIRED) return;
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,BlockStatement: equivalent: which waiters spin before parking only affects speed; each parks on the same value after.
      if (turn.ahead === 1 && (turn.observed & HELD) !== 0) {
        // Next in line: short sections often end within a few hundred ns.
        // Stryker disable next-line EqualityOperator: equivalent: one more spin, or none (a spin that stops at once), only affects speed.
        for (let i = 0; i < SPINS && Atomics.load(w, 0) === turn.observed; i++);
      }
      Atomics.wait(w, 0, turn.observed, ms);
    }
  }

  /**
   * {@link lock} for asynchronous code: waits with `Atomics.waitAsync`, never blocks the thread.
   * It takes its place in line when called. While it waits, a ref'd timer keeps Node's event
   * loop alive (a pending waitAsync alone does not), so a worker whose only work is this wait
   * stays alive until it gets the mutex. Its thread claims the mutex when the promise
   * continuation runs, so a busy event loop delays the threads queued behind it (at most
   * `claimTimeoutMs`, after which they skip it and it queues again).
   * Uncontended it is one load, one compareExchange and an already-resolved promise (no timer).
   * May wait for: the holder, and each thread queued ahead, to release the mutex.
   */
  async lockAsync(): Promise<void> {
    const w = this.#words;
    // Stryker disable next-line ConditionalExpression: equivalent: a fast path; the ticket path below takes a free mutex too.
    if (tryClaimFree(w)) return;
    const turn = new Turn(w, this.#claimTimeoutMs); // one per call: several may wait at once
    turn.queue();
    for (;;) {
      const ms = turn.step();
      if (ms === ACQUIRED) return;
      await waitWhileEqual(w, 0, turn.observed, ms);
    }
  }

  /**
   * Release the mutex: pass the turn to the next ticket and, if any thread waits, wake the
   * waiters (each re-reads the word; the one whose ticket is served claims the mutex).
   * @throws UnlockedReleaseError if the mutex is not held (state unchanged).
   */
  unlock(): void {
    const w = this.#words;
    for (;;) {
      const v = Atomics.load(w, 0);
      if ((v & HELD) === 0) {
        throw new UnlockedReleaseError('SharedMutex.unlock(): the mutex is not locked');
      }
      const next = passTurn(v);
      // Fails if a ticket was taken meanwhile (look again) or another unlock() won (then the
      // next round throws).
      if (Atomics.compareExchange(w, 0, v, next) === v) {
        // Stryker disable next-line ConditionalExpression: equivalent: a notify with nobody parked wakes nobody; it only saves the call.
        if (hasWaitersAfterTurn(next)) Atomics.notify(w, 0);
        return;
      }
    }
  }
}
