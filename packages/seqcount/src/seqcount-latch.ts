import { NestedWriteError } from './errors.js';
import { Mutex } from './mutex.js';

/**
 * A latch sequence count guarding two copies of a value, like the kernel's `seqcount_latch_t`:
 * readers never wait, not even while a writer is in the middle of an update, because the writer
 * only ever modifies the copy that readers are not currently directed to.
 *
 * Writer (`write()` does all of this, serialized by an internal mutex):
 * 1. `latch()`: sequence becomes odd, readers now use `copy[1]`; modify `copy[0]`;
 * 2. `latch()`: sequence becomes even, readers now use `copy[0]`; modify `copy[1]`.
 *
 * Reader: `start = readBegin()`, use `copyFor(start)` (= `copy[start & 1]`), and repeat while
 * `readRetry(start)`. A synchronous reader in one thread always succeeds the first time; the
 * retry matters for readers that `await` while holding a copy.
 *
 * ```ts
 * const latch = new SeqCountLatch({ offset: 0 }, { offset: 0 });
 * await latch.write((c) => { c.offset = 42; });
 * latch.read((c) => c.offset); // 42
 * ```
 */
export class SeqCountLatch<T> {
  #seq = 0;
  readonly #copies: readonly [T, T];
  readonly #mutex = new Mutex();

  /**
   * @param copy0 the copy readers use while the sequence is even.
   * @param copy1 the copy readers use while the sequence is odd. Both must start equal in value
   *   (and must be distinct objects if the writer mutates them in place).
   */
  constructor(copy0: T, copy1: T) {
    this.#copies = [copy0, copy1];
  }

  /** The raw sequence; its low bit says which copy readers use. */
  get sequence(): number {
    return this.#seq;
  }

  /**
   * Begin a read: the raw sequence, odd or even; never waits. Like `read_seqcount_latch()`
   * (older kernels: `raw_read_seqcount_latch()`). Allocates nothing.
   */
  readBegin(): number {
    return this.#seq;
  }

  /** The copy a read that began with `start` must use: `copy[start & 1]`. */
  copyFor(start: number): T {
    return this.#copies[start & 1] as T;
  }

  /**
   * True if the read that began with `start` must be retried because the writer has switched
   * copies since. Like `read_seqcount_latch_retry()`. Allocates nothing.
   */
  readRetry(start: number): boolean {
    return this.#seq !== start;
  }

  /**
   * Run the synchronous reader `fn` on the current copy and return its result. Never waits.
   * `fn` must not modify the copy.
   */
  read<R>(fn: (copy: T) => R): R {
    for (;;) {
      const start = this.#seq;
      const result = fn(this.#copies[start & 1] as T);
      if (this.#seq === start) return result;
    }
  }

  /**
   * Switch readers to the other copy: one sequence step. Like `raw_write_seqcount_latch()`.
   * For hand-written writers that serialize themselves and do not use `write()`: call it, modify
   * copy 0, call it again, modify copy 1.
   * @throws NestedWriteError if a `write()` is in progress (its two steps must not be split).
   */
  latch(): void {
    if (this.#mutex.locked) {
      throw new NestedWriteError('latch(): a write() is in progress on this latch');
    }
    this.#seq += 1;
  }

  /**
   * Apply `update` to both copies, first copy 0 (while readers use copy 1), then copy 1 (while
   * readers use copy 0). `update` may await; readers are never blocked. Writers are serialized
   * in FIFO order by an internal mutex.
   * `update` must be deterministic: it is applied twice and both copies must end equal.
   * If `update` throws, the sequence is still left even and the error propagates; a copy that
   * `update` partly modified becomes visible to readers (on copy 0) or to the next write's
   * readers (on copy 1), so `update` must leave the copy consistent before throwing.
   * May wait for: earlier writers.
   */
  async write(update: (copy: T, index: 0 | 1) => void | PromiseLike<void>): Promise<void> {
    await this.#mutex.lock();
    try {
      this.#seq += 1; // odd: readers move to copy 1
      try {
        await update(this.#copies[0], 0);
      } finally {
        this.#seq += 1; // even: readers move back to copy 0
      }
      await update(this.#copies[1], 1);
    } finally {
      this.#mutex.unlock();
    }
  }
}
