import { OVERTAKEN, type ReadSide, readOptimistically } from './optimistic-read.js';
import { maxOptimisticReadsOf, type SeqLockOptions } from './seqlock.js';
import { SEQ, waitSequenceMove, waitSequenceMoveAsync } from './sequence-wait.js';
import { int32View } from './shared-buffer.js';
import { claimTimeoutOf, SharedMutex, type SharedMutexOptions } from './shared-mutex.js';
import { SharedSeqCount } from './shared-seqcount.js';

/** Even sequence values stay themselves; an odd one means another write section began. */
const evenOrOvertaken = (s: number) => ((s & 1) === 0 ? s >>> 0 : OVERTAKEN);

/**
 * Options for {@link SharedSeqLock}: `maxOptimisticReads` as for `SeqLock`, `claimTimeoutMs` as
 * for the writer lock ({@link SharedMutexOptions}), and `atomicData`.
 */
export interface SharedSeqLockOptions extends SeqLockOptions, SharedMutexOptions {
  /**
   * Promise that every `read`/`readAsync` callback reads the guarded data only with
   * `Atomics.load` and every writer stores it only with `Atomics.store` (approach A in the
   * README). Readers then validate with a plain SeqCst load (`readRetry`), which does not write
   * the sequence's cache line. Default false: readers validate with `readRetryFenced` (approach
   * B), which is correct whatever the callbacks do, plain TypedArray accesses included.
   */
  readonly atomicData?: boolean;
}

/**
 * A {@link SharedSeqCount} plus a {@link SharedMutex} serializing its writers, in 12 bytes of a
 * SharedArrayBuffer: the cross-thread `seqlock_t`.
 *
 * Layout (at `byteOffset`, {@link SharedSeqLock.BYTES} = 12 bytes, 4-byte aligned):
 * - word 0: sequence, word 1: parked-reader count (the {@link SharedSeqCount} at `byteOffset`);
 * - word 2: the writer lock, a FIFO ticket lock (the {@link SharedMutex} at `byteOffset + 8`).
 *
 * The guarded data lives wherever you put it (typically after these words in the same buffer).
 * By default `read()` validates with {@link SharedSeqCount.readRetryFenced}, so callbacks may use
 * plain TypedArray accesses; with `{ atomicData: true }` they must use `Atomics` (README,
 * "Why this is correct"; {@link loadWords}, {@link storeWords}).
 *
 * ```ts
 * // main thread
 * const sab = new SharedArrayBuffer(SharedSeqLock.BYTES + 8 * 4);
 * const lock = SharedSeqLock.from(sab);
 * const rec = new Int32Array(sab, SharedSeqLock.BYTES, 8);
 * worker.postMessage(sab);
 * // any thread
 * lock.write(() => { for (let i = 0; i < 8; i++) Atomics.store(rec, i, v); });
 * const sum = lock.read(() => { let s = 0; for (let i = 0; i < 8; i++) s += Atomics.load(rec, i); return s; });
 * ```
 */
export class SharedSeqLock {
  /** Bytes used at `byteOffset`. */
  static readonly BYTES = 12;

  /** The SharedArrayBuffer holding the lock: post it to a worker and call `from()` there. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the lock's words in `buffer`. */
  readonly byteOffset: number;
  readonly #seq: SharedSeqCount;
  /** The sequence's words, for the bounded waits of read()/readAsync(). */
  readonly #seqWords: Int32Array;
  readonly #mutex: SharedMutex;
  readonly #maxOptimisticReads: number;
  readonly #atomicData: boolean;
  /** The read side handed to readOptimistically() by readAsync(); built once per view. */
  readonly #side: ReadSide<undefined>;

  private constructor(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    who: string,
    options?: SharedSeqLockOptions,
  ) {
    this.#maxOptimisticReads = maxOptimisticReadsOf(who, options);
    const claimTimeoutMs = claimTimeoutOf(who, options);
    this.#atomicData = options?.atomicData === true;
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.#seq = SharedSeqCount.from(buffer, byteOffset);
    this.#seqWords = int32View(who, buffer, byteOffset, SharedSeqCount.BYTES);
    this.#mutex = SharedMutex.from(buffer, byteOffset + SharedSeqCount.BYTES, { claimTimeoutMs });
    const seqWords = this.#seqWords;
    const mutex = this.#mutex;
    this.#side = {
      value: undefined,
      begin: () => {
        const s = Atomics.load(seqWords, SEQ);
        if ((s & 1) === 0) return s >>> 0;
        return waitSequenceMoveAsync(seqWords, s).then(evenOrOvertaken);
      },
      retry: (start) => this.#retry(start),
      exclusive: async (fn) => {
        await mutex.lockAsync();
        try {
          return await fn(undefined);
        } finally {
          mutex.unlock();
        }
      },
    };
  }

  /** A new unlocked seqlock at sequence 0 in a fresh SharedArrayBuffer of {@link SharedSeqLock.BYTES}. */
  static create(options?: SharedSeqLockOptions): SharedSeqLock {
    return new SharedSeqLock(
      new SharedArrayBuffer(SharedSeqLock.BYTES),
      0,
      'SharedSeqLock.create',
      options,
    );
  }

  /**
   * View the seqlock stored at `byteOffset` in `buffer`; a zero-filled region is an unlocked
   * seqlock at sequence 0. Nothing is written. Options are per view (not shared).
   * @throws TypeError if `buffer` is not a SharedArrayBuffer or `byteOffset` not a number.
   * @throws RangeError if `byteOffset` is negative, fractional, not a multiple of 4, or leaves
   *   fewer than {@link SharedSeqLock.BYTES} bytes; or for a bad `maxOptimisticReads` or
   *   `claimTimeoutMs` (TypeError if either is not a number).
   */
  static from(
    buffer: SharedArrayBuffer,
    byteOffset = 0,
    options?: SharedSeqLockOptions,
  ): SharedSeqLock {
    int32View('SharedSeqLock.from', buffer, byteOffset, SharedSeqLock.BYTES);
    return new SharedSeqLock(buffer, byteOffset, 'SharedSeqLock.from', options);
  }

  /** The raw sequence (unsigned 32-bit); odd while a write is in progress. */
  get sequence(): number {
    return this.#seq.sequence;
  }

  /** True while some thread is inside `write()`. */
  get writing(): boolean {
    return this.#seq.writing;
  }

  /** For hand-written read loops: {@link SharedSeqCount.readBegin} (blocks while odd). */
  readBegin(): number {
    return this.#seq.readBegin();
  }

  /** For hand-written read loops: {@link SharedSeqCount.readRetry} (Atomics data only). */
  readRetry(start: number): boolean {
    return this.#seq.readRetry(start);
  }

  /** For hand-written read loops: {@link SharedSeqCount.readRetryFenced} (any data access). */
  readRetryFenced(start: number): boolean {
    return this.#seq.readRetryFenced(start);
  }

  /** The validation `read`/`readAsync` use, chosen by the `atomicData` option. */
  #retry(start: number): boolean {
    return this.#atomicData ? this.#seq.readRetry(start) : this.#seq.readRetryFenced(start);
  }

  /**
   * Run the synchronous reader `fn` as a consistent read and return its result: up to
   * `maxOptimisticReads` lockless attempts (each waits for the write in progress, if any, to end,
   * runs `fn`, and is accepted only if the sequence did not move), then one attempt holding the
   * writer lock (like `read_seqbegin_or_lock()`). If another write has begun by the time the
   * write in progress ended and this thread looked again (writers running back to back), it
   * takes the lock at once. The lock is FIFO, so a reader waits for at most one write section per
   * lockless attempt (one in all when writers run back to back), the one in progress when it
   * queued for the lock, and those of writers queued before it. An error thrown by an attempt
   * that overlapped a write is discarded with the attempt; otherwise it propagates.
   * `fn` must not write the guarded data and may run several times. Blocks the thread
   * (Atomics.wait): use {@link readAsync} on the main thread. Allocates nothing itself.
   * May wait for: writers in progress; the writer lock on the fallback path.
   */
  read<R>(fn: () => R): R {
    // The blocking twin of readOptimistically() (optimistic-read.ts, where the rule for errors
    // is stated); kept separate so that a synchronous read never creates a promise.
    // Bound: a lockless attempt waits for at most the write section in progress; if the next one
    // has begun when it ends, writers run back to back and the reader stops trying locklessly.
    // The writer lock serves threads in the order they asked (ticket-turn.ts). So a reader
    // waits for at most maxOptimisticReads + 1 sections (2 against back-to-back writers) beyond
    // those of writers queued before it.
    const w = this.#seqWords;
    for (let attempt = 0; attempt < this.#maxOptimisticReads; attempt++) {
      let start = Atomics.load(w, SEQ);
      if ((start & 1) !== 0) {
        start = evenOrOvertaken(waitSequenceMove(w, start));
        if (start === OVERTAKEN) break;
      } else start >>>= 0;
      let result: R;
      try {
        result = fn();
      } catch (error) {
        if (this.#retry(start)) continue;
        throw error;
      }
      if (!this.#retry(start)) return result;
    }
    return this.readExclusive(fn);
  }

  /**
   * {@link read} for asynchronous code: waits with `Atomics.waitAsync` instead of blocking;
   * `fn` may return a promise. The same bound as {@link read}.
   * May wait for: writers in progress; the writer lock on the fallback path.
   */
  readAsync<R>(fn: () => R | PromiseLike<R>): Promise<R> {
    return readOptimistically(this.#side, this.#maxOptimisticReads, fn);
  }

  /**
   * Run `fn` holding the writer lock without changing the sequence (no write can overlap it).
   * Like `read_seqlock_excl()`. Blocks the thread while another thread holds the lock.
   */
  readExclusive<R>(fn: () => R): R {
    this.#mutex.lock();
    try {
      return fn();
    } finally {
      this.#mutex.unlock();
    }
  }

  /**
   * Run `fn` as a write section: take the writer lock (blocking), make the sequence odd, run
   * `fn`, make it even (waking parked readers), release the lock. Like `write_seqlock()` ...
   * `write_sequnlock()`. If `fn` throws, the section is closed and the lock released before the
   * error propagates, so `fn` must leave the data consistent before throwing.
   * May wait for: the writer lock.
   */
  write<R>(fn: () => R): R {
    this.#mutex.lock();
    try {
      this.#seq.writeBegin();
      try {
        return fn();
      } finally {
        this.#seq.writeEnd();
      }
    } finally {
      this.#mutex.unlock();
    }
  }

  /**
   * {@link write} for asynchronous code: takes the lock with `Atomics.waitAsync` and may await
   * inside `fn`; the sequence stays odd (and other threads' readers wait) until `fn` settles.
   * May wait for: the writer lock.
   */
  async writeAsync<R>(fn: () => R | PromiseLike<R>): Promise<R> {
    await this.#mutex.lockAsync();
    try {
      this.#seq.writeBegin();
      try {
        return await fn();
      } finally {
        this.#seq.writeEnd();
      }
    } finally {
      this.#mutex.unlock();
    }
  }
}
