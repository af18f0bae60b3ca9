import { NestedWriteError, UnmatchedWriteEndError } from './errors.js';
import { SEQ, WAITERS, waitSequenceMove, waitSequenceMoveAsync } from './sequence-wait.js';
import { int32View } from './shared-buffer.js';

/**
 * A sequence count in shared memory, usable from several worker_threads at once: the same
 * contract as {@link SeqCount}, over two Int32 words of a SharedArrayBuffer.
 *
 * Layout (at `byteOffset`, {@link SharedSeqCount.BYTES} = 8 bytes, 4-byte aligned):
 * - word 0: the sequence (odd while a write is in progress);
 * - word 1: the number of readers parked waiting for it to become even.
 *
 * Every access to these words is an `Atomics` operation (sequentially consistent). For a read
 * that passes validation to be guaranteed untorn under the ECMAScript memory model, EITHER the
 * guarded data is written and read only with `Atomics.store`/`Atomics.load` and readers validate
 * with {@link readRetry} (approach A; see {@link loadWords}/{@link storeWords}), OR readers
 * validate with {@link readRetryFenced}, and then the data may be accessed with plain TypedArray
 * reads and writes of any element type (approach B). Plain data reads validated with plain
 * `readRetry` are NOT guaranteed (they happen to work on x86). See "Why this is correct" in the
 * README.
 *
 * The sequence is a 32-bit counter that wraps at 2^32 (values are reported as unsigned, 0 to
 * 2^32 - 1), unlike the in-thread SeqCount; a reader would have to be stalled across 2^31
 * complete write sections to be fooled (the kernel's counter wraps the same way).
 *
 * Writers must be serialized by the caller (or use {@link SharedSeqLock}); an overlapping
 * `writeBegin()` from another thread is detected and throws `NestedWriteError`.
 */
export class SharedSeqCount {
  /** Bytes used at `byteOffset`. */
  static readonly BYTES = 8;

  /** The SharedArrayBuffer holding the counter: post it to a worker and call `from()` there. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the counter's words in `buffer`. */
  readonly byteOffset: number;
  readonly #words: Int32Array;

  private constructor(words: Int32Array) {
    this.#words = words;
    this.buffer = words.buffer as SharedArrayBuffer;
    this.byteOffset = words.byteOffset;
  }

  /** A new counter (sequence 0) in a fresh SharedArrayBuffer of {@link SharedSeqCount.BYTES}. */
  static create(): SharedSeqCount {
    return new SharedSeqCount(new Int32Array(new SharedArrayBuffer(SharedSeqCount.BYTES)));
  }

  /**
   * View the counter stored at `byteOffset` in `buffer` (for instance in a worker that received
   * the buffer). A zero-filled region is a valid counter at sequence 0. Nothing is written.
   * @throws TypeError if `buffer` is not a SharedArrayBuffer or `byteOffset` not a number.
   * @throws RangeError if `byteOffset` is negative, fractional, not a multiple of 4, or leaves
   *   fewer than {@link SharedSeqCount.BYTES} bytes.
   */
  static from(buffer: SharedArrayBuffer, byteOffset = 0): SharedSeqCount {
    return new SharedSeqCount(
      int32View('SharedSeqCount.from', buffer, byteOffset, SharedSeqCount.BYTES),
    );
  }

  /** The raw sequence as an unsigned 32-bit value; odd while a write is in progress. */
  get sequence(): number {
    return Atomics.load(this.#words, SEQ) >>> 0;
  }

  /** True while a write section is open (the sequence is odd). */
  get writing(): boolean {
    return (Atomics.load(this.#words, SEQ) & 1) === 1;
  }

  /** The raw sequence, possibly odd. Like `raw_read_seqcount()`. Never waits. */
  rawRead(): number {
    return Atomics.load(this.#words, SEQ) >>> 0;
  }

  /**
   * Begin a read without waiting: the sequence with its low bit cleared, so a read begun during a
   * write always fails `readRetry()`. Like `raw_seqcount_begin()`. Allocates nothing.
   */
  rawBegin(): number {
    return (Atomics.load(this.#words, SEQ) & ~1) >>> 0;
  }

  /**
   * Begin a read, blocking until no write is in progress; returns the even sequence. Spins
   * briefly, then parks the thread in `Atomics.wait` until `writeEnd()` notifies it. Like
   * `read_seqcount_begin()`. Allocates nothing.
   * Blocks the calling thread: fine in a worker; on Node's main thread it stalls the event loop
   * (and browsers forbid Atomics.wait there): main-thread code should use {@link readBeginWait}.
   * May wait for: the write in progress, for as long as it lasts.
   */
  readBegin(): number {
    let s = Atomics.load(this.#words, SEQ);
    while ((s & 1) !== 0) s = waitSequenceMove(this.#words, s);
    return s >>> 0;
  }

  /**
   * Begin a read, waiting asynchronously (`Atomics.waitAsync`, or polling where that is missing)
   * until no write is in progress; resolves to the even sequence. Safe on the main thread.
   * Same contract as `SeqCount.readBeginWait()`.
   * May wait for: the write in progress.
   */
  async readBeginWait(): Promise<number> {
    let s = Atomics.load(this.#words, SEQ);
    while ((s & 1) !== 0) s = await waitSequenceMoveAsync(this.#words, s);
    return s >>> 0;
  }

  /** Alias of {@link readBeginWait}. */
  readBeginAsync(): Promise<number> {
    return this.readBeginWait();
  }

  /**
   * True if the read that began with `start` must be retried. This SeqCst load is ordered after
   * the reader's data loads only if those were Atomics loads (approach A); readers of plain data
   * must use {@link readRetryFenced}.
   * Like `read_seqcount_retry()`. Allocates nothing.
   */
  readRetry(start: number): boolean {
    return Atomics.load(this.#words, SEQ) >>> 0 !== start;
  }

  /**
   * {@link readRetry} for readers whose data reads are plain (non-Atomics) TypedArray reads:
   * the sequence is re-read with a sequentially consistent read-modify-write (`Atomics.add` of
   * 0, which writes back the value it read) instead of a load. A write section that any of the
   * caller's earlier plain reads observed must then have begun before this RMW in the SeqCst
   * order, so the check fails (README, "Why this is correct", approach B; Boehm 2012). Works for
   * any element type, Float64Array and BigInt64Array included, and needs no Atomics in the
   * writer's data stores. Cost: a locked instruction that also writes the sequence's cache line,
   * so many readers at a high rate contend for it.
   * Allocates nothing.
   */
  readRetryFenced(start: number): boolean {
    return Atomics.add(this.#words, SEQ, 0) >>> 0 !== start;
  }

  /**
   * Open a write section: the sequence becomes odd. Its SeqCst increment is ordered before the
   * writer's (Atomics) data stores. Like `write_seqcount_begin()`.
   * @throws NestedWriteError if a write section is already open, or another thread changed the
   *   sequence at the same moment (writers are not serialized); the sequence is unchanged.
   */
  writeBegin(): void {
    const w = this.#words;
    const s = Atomics.load(w, SEQ);
    if ((s & 1) === 1) {
      throw new NestedWriteError(
        `writeBegin(): a write section is already open (sequence ${s >>> 0} is odd); writers must be serialized`,
      );
    }
    if (Atomics.compareExchange(w, SEQ, s, s + 1) !== s) {
      throw new NestedWriteError(
        'writeBegin(): another thread changed the sequence concurrently; writers must be serialized',
      );
    }
  }

  /**
   * Close the write section: the sequence becomes even (its SeqCst increment is ordered after
   * the writer's data stores) and parked readers are woken. Like `write_seqcount_end()`.
   * @throws UnmatchedWriteEndError if no write section is open (sequence unchanged).
   */
  writeEnd(): void {
    const w = this.#words;
    const s = Atomics.load(w, SEQ);
    if ((s & 1) === 0) {
      throw new UnmatchedWriteEndError(
        `writeEnd(): no write section is open (sequence ${s >>> 0} is even)`,
      );
    }
    Atomics.add(w, SEQ, 1);
    // The parking rule of sequence-wait.ts: increment, then look for parked readers.
    // Stryker disable next-line ConditionalExpression: equivalent: a notify with nobody parked wakes nobody; it only saves the call.
    if (Atomics.load(w, WAITERS) !== 0) Atomics.notify(w, SEQ);
  }

  /**
   * Add 2 to the sequence without an odd phase: every read begun before fails `readRetry()`.
   * Call it with writers serialized. Like `write_seqcount_invalidate()`.
   */
  invalidate(): void {
    Atomics.add(this.#words, SEQ, 2);
  }
}
