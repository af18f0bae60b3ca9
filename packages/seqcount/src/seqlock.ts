import { Mutex } from './mutex.js';
import { type ReadSide, readOptimistically } from './optimistic-read.js';
import { SeqCount } from './seqcount.js';

/** Options for {@link SeqLock}. */
export interface SeqLockOptions {
  /**
   * How many optimistic (lockless) attempts `read()` makes before it falls back to taking the
   * writer mutex, like `read_seqbegin_or_lock()`. A non-negative integer; 0 means every read locks.
   * Default 3.
   */
  readonly maxOptimisticReads?: number;
}

/** Default for {@link SeqLockOptions.maxOptimisticReads}. */
export const DEFAULT_MAX_OPTIMISTIC_READS = 3;

/**
 * The arguments of `new SeqLock<T>(value, options)`: `value` is the guarded value handed to the
 * `read`/`write` callbacks, optional when `T` admits `undefined` (a lock guarding data kept
 * elsewhere); `options` are {@link SeqLockOptions}.
 */
export type SeqLockArgs<T> = undefined extends T
  ? [value?: T, options?: SeqLockOptions]
  : [value: T, options?: SeqLockOptions];

/**
 * A {@link SeqCount} plus an async writer mutex, like the kernel's `seqlock_t` (a seqcount with
 * an embedded spinlock). Optionally wraps a value `T` that is handed to readers and writers;
 * `new SeqLock()` guards data you keep elsewhere.
 *
 * - `write(fn)` takes the mutex (FIFO), opens the write section, runs `fn` (which may await;
 *   the sequence stays odd meanwhile), then closes the section and releases the mutex.
 * - `read(fn)` runs `fn` optimistically and re-runs it if a write overlapped. After
 *   `maxOptimisticReads` failed attempts it runs `fn` once more holding the writer mutex,
 *   so a reader cannot be starved by a stream of writers (the `read_seqbegin_or_lock()` idea).
 *
 * ```ts
 * const point = new SeqLock({ x: 0, y: 0 });
 * await point.write(async (p) => { p.x = 1; await io(); p.y = 1; });
 * const copy = await point.read((p) => ({ x: p.x, y: p.y })); // never { x: 1, y: 0 }
 * ```
 */
export class SeqLock<T = undefined> {
  readonly #seq = new SeqCount();
  readonly #mutex = new Mutex();
  readonly #value: T;
  readonly #maxOptimisticReads: number;
  /** The read side handed to readOptimistically(); built once per lock. */
  readonly #side: ReadSide<T>;

  /**
   * @param args - `[value, options]` (see {@link SeqLockArgs}): the guarded value passed to
   *   `read`/`write` callbacks (omit it to guard external data), then {@link SeqLockOptions}.
   * @throws RangeError if `maxOptimisticReads` is not a non-negative safe integer.
   */
  constructor(...args: SeqLockArgs<T>) {
    const [value, options] = args;
    this.#maxOptimisticReads = maxOptimisticReadsOf('SeqLock', options);
    this.#value = value as T;
    const seq = this.#seq;
    this.#side = {
      value: this.#value,
      begin: () => {
        const start = seq.rawRead();
        return (start & 1) === 0 ? start : seq.readBeginWait();
      },
      retry: (start) => seq.readRetry(start),
      exclusive: (fn) => this.readExclusive(fn),
    };
  }

  /** The raw sequence; odd while a `write()` is in progress. */
  get sequence(): number {
    return this.#seq.sequence;
  }

  /** True while a `write()` callback is running. */
  get writing(): boolean {
    return this.#seq.writing;
  }

  /** For hand-written synchronous read loops: {@link SeqCount.readBegin} (never waits). */
  readBegin(): number {
    return this.#seq.readBegin();
  }

  /** For hand-written read loops: {@link SeqCount.readRetry}. */
  readRetry(start: number): boolean {
    return this.#seq.readRetry(start);
  }

  /**
   * Run `fn` as a consistent read of the guarded data and resolve to its result. Each
   * optimistic attempt waits (asynchronously) for any write in progress to end, runs `fn`
   * (awaiting it if it returns a promise) and accepts the result only if no write began or ended
   * meanwhile. If `fn` throws during an attempt that overlapped a write, the error is treated as
   * a symptom of torn data and the attempt is retried; otherwise it is rethrown.
   * After `maxOptimisticReads` failed attempts, `fn` runs once under the writer mutex (like
   * `read_seqlock_excl()`), which cannot fail.
   * `fn` must not write the guarded data and may run several times.
   * May wait for: writers in progress; the writer mutex on the fallback path.
   */
  read<R>(fn: (value: T) => R | PromiseLike<R>): Promise<R> {
    return readOptimistically(this.#side, this.#maxOptimisticReads, fn);
  }

  /**
   * Run `fn` holding the writer mutex, so no write can overlap it; the sequence is not changed.
   * Like `read_seqlock_excl()` / `read_sequnlock_excl()`.
   * May wait for: the writer mutex.
   */
  async readExclusive<R>(fn: (value: T) => R | PromiseLike<R>): Promise<R> {
    await this.#mutex.lock();
    try {
      return await fn(this.#value);
    } finally {
      this.#mutex.unlock();
    }
  }

  /**
   * Run `fn` as a write section: take the writer mutex (writers are served in FIFO order), make
   * the sequence odd, run and await `fn`, make the sequence even, release the mutex.
   * Like `write_seqlock()` ... `write_sequnlock()`.
   * If `fn` throws, the section is still closed and the mutex released before the error
   * propagates: whatever `fn` wrote becomes visible to readers as a consistent state, so `fn`
   * must leave the data consistent (or restore it) before throwing.
   * May wait for: the writer mutex (earlier writers and exclusive readers).
   */
  async write<R>(fn: (value: T) => R | PromiseLike<R>): Promise<R> {
    await this.#mutex.lock();
    this.#seq.writeBegin();
    try {
      return await fn(this.#value);
    } finally {
      this.#seq.writeEnd();
      this.#mutex.unlock();
    }
  }
}

/** Validate and default {@link SeqLockOptions.maxOptimisticReads}; shared with SharedSeqLock. */
export function maxOptimisticReadsOf(who: string, options: SeqLockOptions | undefined): number {
  const max: unknown = options?.maxOptimisticReads ?? DEFAULT_MAX_OPTIMISTIC_READS;
  if (typeof max !== 'number') {
    throw new TypeError(`${who}: maxOptimisticReads must be a number, got ${typeof max}`);
  }
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new RangeError(
      `${who}: maxOptimisticReads must be a non-negative safe integer, got ${String(max)}`,
    );
  }
  return max;
}
