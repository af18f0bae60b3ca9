import { NestedWriteError, UnmatchedWriteEndError } from './errors.js';

/**
 * A sequence count for one JavaScript thread whose writers may `await` inside their write
 * section (the analogue of a preempted kernel writer). Mirrors `seqcount_t` from the Linux
 * kernel's include/linux/seqlock.h.
 *
 * The counter starts at 0. Even: no write in progress. Odd: a writer is inside its section.
 * A read is consistent iff the counter was even when it began and is unchanged when it ends:
 *
 * ```ts
 * let start: number;
 * do {
 *   start = seq.readBegin();
 *   copy = { ...record };          // may see a half-written record; it is thrown away
 * } while (seq.readRetry(start));
 * ```
 *
 * Ordering: in one thread, code between two `await`s runs atomically, so no barrier is needed;
 * the only way a reader can observe a half-written record is a writer that awaited between
 * `writeBegin()` and `writeEnd()`, which leaves the counter odd and fails the reader's
 * `readRetry()`.
 *
 * Writers are NOT serialized by this class: a second `writeBegin()` while a write is open throws
 * `NestedWriteError` (use {@link SeqLock} or your own mutex to serialize writers).
 *
 * Sequence values are safe integers and do not wrap (see the package README).
 */
export class SeqCount {
  #seq = 0;
  /** Settles when the current write section ends; created lazily by the first waiting reader. */
  #writeEnded: Deferred | undefined;

  /**
   * The raw counter value; odd while a write is in progress. Like `raw_read_seqcount()`.
   */
  get sequence(): number {
    return this.#seq;
  }

  /** True while a write section is open (the sequence is odd). */
  get writing(): boolean {
    return (this.#seq & 1) === 1;
  }

  /**
   * Begin a read without waiting: returns the sequence with its low bit cleared. If a write is in
   * progress the returned value is one less than the (odd) sequence, which can never match again,
   * so the closing {@link readRetry} is guaranteed to report a retry.
   * Like the kernel's `raw_seqcount_begin()`. Allocates nothing.
   */
  readBegin(): number {
    const s = this.#seq;
    return s - (s & 1);
  }

  /**
   * Same as {@link readBegin}; present on both `SeqCount` and `SharedSeqCount` (whose
   * `readBegin()` waits) under the kernel's name `raw_seqcount_begin()`.
   */
  rawBegin(): number {
    const s = this.#seq;
    return s - (s & 1);
  }

  /** The raw counter, possibly odd. Like `raw_read_seqcount()`. */
  rawRead(): number {
    return this.#seq;
  }

  /**
   * Begin a read, waiting (asynchronously) until no write is in progress; resolves to the even
   * sequence value observed. Like the kernel's `read_seqcount_begin()`, which spins while odd.
   * May wait for: the end of the current write section (and of any that begins before this
   * reader resumes).
   */
  async readBeginWait(): Promise<number> {
    // Loop: between writeEnd() settling the promise and this continuation running, synchronous
    // code may already have opened the next write section.
    while ((this.#seq & 1) === 1) {
      this.#writeEnded ??= new Deferred();
      await this.#writeEnded.promise;
    }
    return this.#seq;
  }

  /**
   * True if the read that began with `start` must be retried: a write began, ended or
   * invalidated since (or was in progress at) `start`. Like `read_seqcount_retry()`.
   * Any value that is not the current even sequence reports a retry, so a bogus `start` is safe.
   * Allocates nothing.
   */
  readRetry(start: number): boolean {
    return this.#seq !== start;
  }

  /**
   * Open a write section: the sequence becomes odd. The caller must serialize writers.
   * Like `write_seqcount_begin()`.
   * @throws NestedWriteError if a write section is already open (sequence unchanged).
   */
  writeBegin(): void {
    if ((this.#seq & 1) === 1) {
      throw new NestedWriteError(
        `writeBegin(): a write section is already open (sequence ${this.#seq} is odd); writers must be serialized`,
      );
    }
    this.#seq += 1;
  }

  /**
   * Close the write section: the sequence becomes even again and readers waiting in
   * {@link readBeginWait} are resumed. Like `write_seqcount_end()`.
   * @throws UnmatchedWriteEndError if no write section is open (sequence unchanged).
   */
  writeEnd(): void {
    if ((this.#seq & 1) === 0) {
      throw new UnmatchedWriteEndError(
        `writeEnd(): no write section is open (sequence ${this.#seq} is even)`,
      );
    }
    this.#seq += 1;
    const waiters = this.#writeEnded;
    if (waiters !== undefined) {
      this.#writeEnded = undefined;
      waiters.resolve();
    }
  }

  /**
   * Add 2 to the sequence without an odd phase: every read begun before this fails its
   * `readRetry()`. Call it with writers serialized, like `write_seqcount_invalidate()`.
   */
  invalidate(): void {
    this.#seq += 2;
  }
}

/** A promise with its resolve function (Promise.withResolvers needs Node 22). */
class Deferred {
  readonly promise: Promise<void>;
  resolve!: () => void;
  constructor() {
    this.promise = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }
}
