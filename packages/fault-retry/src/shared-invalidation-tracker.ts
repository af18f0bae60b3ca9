import { checkSharedRegion } from '@mmukit/seqcount';
import { InvalidationEndWithoutBeginError, RangeAddOutsideInvalidationError } from './errors.js';
import type { InvalidationTrackerLike, InvalidationTrackerOptions } from './tracker-like.js';
import { checkIndex, checkRange } from './validate.js';

// Layout (32 bytes, 8-byte aligned). Int32 words:
const SEQ_HI1 = 0; // seq / 2^32, written last on a carry
const SEQ_LO = 1; // seq % 2^32, as an Int32 bit pattern
const SEQ_HI2 = 2; // seq / 2^32, written first on a carry
const IN_PROGRESS = 3;
// Float64 words (byte 16 and 24): rangeStart + 1 and rangeEnd + 1; 0 means "no range"
// (INVALID_GPA), so an all-zero region is an idle tracker with seq 0.
const RANGE_START = 2;
const RANGE_END = 3;
const TWO_32 = 2 ** 32;
const MAX_IN_PROGRESS = 0x7fffffff;

/**
 * {@link InvalidationTracker} over a SharedArrayBuffer, so vCPU workers can fault in parallel
 * with the thread that invalidates. Rebuild it in a worker with `from(buffer, byteOffset)`.
 * Same contract and semantics; the MMU lock must be a lock that works across threads, i.e. a
 * {@link SharedMmuLock} (its Atomics give the happens-before edges the argument below needs).
 *
 * Representation: Atomics cannot operate on Float64Array, and BigInt64Array would allocate a
 * BigInt on every read, so `seq` is split into an Int32 low word and two copies of the high word;
 * `inProgress` is an Int32; the range is two Float64 (exact for safe integers).
 *
 * Ordering (every Atomics operation is sequentially consistent, SC):
 * - The mutators run under the MMU lock, so they are serialized, and a locked reader sees all of
 *   them through the lock's synchronizes-with edge; the plain Float64 range needs nothing more.
 * - end() bumps seq (Atomics stores) before it decrements inProgress (Atomics.sub): the SC order
 *   puts the bump first, which is the kernel's smp_wmb(). The lockless readers (retry(),
 *   retryCache(), retryGfnUnsafe()) load inProgress before seq (the kernel's smp_rmb()): a reader
 *   that sees the decremented count also sees the new seq. Under the lock the order is moot.
 * - snapshot() is an Atomics load, so it is ordered before every later read of the resolve
 *   step; if it returned a bumped seq, the page changes made before that end() are visible to
 *   resolve.
 * - seq is read as hi1, lo, hi2 and retried while hi1 !== hi2; a carry writes hi2, lo, hi1 in
 *   that order, so a reader never combines words of two different values (see #readSeq()).
 * - retryGfn() is only valid under the lock and reads with plain loads: Atomics loads cost
 *   ~25 ns each on V8 11 (Node 20), where they are builtin calls rather than inlined.
 */
export class SharedInvalidationTracker implements InvalidationTrackerLike {
  /** Bytes used in the buffer. */
  static readonly BYTE_LENGTH = 32;

  /** The buffer holding the state; post it to a worker and rebuild there with from(). */
  readonly buffer: SharedArrayBuffer;
  /** Offset of the state in `buffer`. */
  readonly byteOffset: number;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;

  /** Allocates a new idle tracker in its own SharedArrayBuffer (`seq` = `initialSeq` or 0). */
  static create(options: InvalidationTrackerOptions = {}): SharedInvalidationTracker {
    const initialSeq = options.initialSeq ?? 0;
    checkIndex(initialSeq, 'initialSeq');
    const tracker = new SharedInvalidationTracker(
      new SharedArrayBuffer(SharedInvalidationTracker.BYTE_LENGTH),
      0,
    );
    const hi = Math.floor(initialSeq / TWO_32);
    Atomics.store(tracker.#i32, SEQ_HI2, hi);
    Atomics.store(tracker.#i32, SEQ_LO, (initialSeq % TWO_32) | 0);
    Atomics.store(tracker.#i32, SEQ_HI1, hi);
    return tracker;
  }

  /**
   * Attaches to a tracker at `byteOffset` (a multiple of 8) of `buffer`, e.g. in a worker. A
   * zero-filled region is an idle tracker with seq 0, so it needs no initialisation.
   */
  static from(buffer: SharedArrayBuffer, byteOffset = 0): SharedInvalidationTracker {
    return new SharedInvalidationTracker(buffer, byteOffset);
  }

  /** Same as {@link SharedInvalidationTracker.from}. */
  constructor(buffer: SharedArrayBuffer, byteOffset = 0) {
    checkSharedRegion(
      'SharedInvalidationTracker',
      buffer,
      byteOffset,
      SharedInvalidationTracker.BYTE_LENGTH,
      8,
    );
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.#i32 = new Int32Array(buffer, byteOffset, 4);
    this.#f64 = new Float64Array(buffer, byteOffset, 4);
  }

  /**
   * Reads seq without the lock: hi1 and lo with Atomics loads, hi2 with a plain load, retried
   * while hi1 !== hi2. A carry writes hi2, lo, hi1 in that order (endBumpSeq()). If lo came from
   * a write of the new epoch, that write synchronizes-with the lo load, so the hi2 store before
   * it happens-before the hi2 load, which therefore sees the new hi and forces a retry. If hi1
   * and hi2 agree, lo belongs to that epoch. The third load needs no Atomics: ordering after
   * the lo load is all it relies on, and program order gives it.
   */
  #readSeq(): number {
    const w = this.#i32;
    for (;;) {
      const hi = Atomics.load(w, SEQ_HI1);
      const lo = Atomics.load(w, SEQ_LO);
      // Stryker disable next-line ConditionalExpression: only a writer in another thread can make the high words differ (test/seq-tearing.test.ts, run against dist/ by a worker).
      if (w[SEQ_HI2] === hi) return hi * TWO_32 + (lo >>> 0);
    }
  }

  /** Reads seq under the lock: writers are excluded, so plain loads see one consistent value. */
  #readSeqLocked(): number {
    const w = this.#i32;
    return w[SEQ_HI1]! * TWO_32 + (w[SEQ_LO]! >>> 0);
  }

  /** Current `mmu_invalidate_seq`. */
  get seq(): number {
    return this.#readSeq();
  }
  /** Current `mmu_invalidate_in_progress`. */
  get inProgress(): number {
    return Atomics.load(this.#i32, IN_PROGRESS);
  }
  /** Start (inclusive) of the merged range, `undefined` before the burst's first rangeAdd(). */
  get rangeStart(): number | undefined {
    const v = this.#f64[RANGE_START]!;
    return v === 0 ? undefined : v - 1;
  }
  /** End (exclusive) of the merged range, `undefined` before the burst's first rangeAdd(). */
  get rangeEnd(): number | undefined {
    const v = this.#f64[RANGE_END]!;
    return v === 0 ? undefined : v - 1;
  }

  /**
   * Like kvm_mmu_invalidate_begin(); caller holds the SharedMmuLock. The first of a burst
   * (0 -> 1) resets the range.
   * @throws RangeError if 2^31 - 1 invalidations are already in progress (state unchanged).
   */
  begin(): void {
    if (Atomics.load(this.#i32, IN_PROGRESS) === MAX_IN_PROGRESS) {
      throw new RangeError('too many invalidations in progress (2^31 - 1)');
    }
    // The raised count is published by the unlock that follows (see the class comment).
    if (Atomics.add(this.#i32, IN_PROGRESS, 1) === 0) {
      this.#f64[RANGE_START] = 0;
      this.#f64[RANGE_END] = 0;
    }
  }

  /**
   * Like kvm_mmu_invalidate_range_add(); caller holds the SharedMmuLock, inside begin()/end().
   * First range of the burst stored as is, later ones widen it to the union hull.
   * @throws TypeError/RangeError for a bad or empty range, RangeAddOutsideInvalidationError
   * when nothing is in progress; the state is unchanged.
   */
  rangeAdd(start: number, end: number): void {
    checkRange(start, end);
    if (Atomics.load(this.#i32, IN_PROGRESS) === 0) throw new RangeAddOutsideInvalidationError();
    const f = this.#f64;
    const s = f[RANGE_START]!;
    if (s === 0) {
      f[RANGE_START] = start + 1;
      f[RANGE_END] = end + 1;
    } else {
      // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
      if (start + 1 < s) f[RANGE_START] = start + 1;
      // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
      if (end + 1 > f[RANGE_END]!) f[RANGE_END] = end + 1;
    }
  }

  /**
   * Like kvm_mmu_invalidate_end(); caller holds the SharedMmuLock. Bumps seq, then drops
   * inProgress (see the class comment for why this order is what the checks rely on).
   * @throws InvalidationEndWithoutBeginError when nothing is in progress; RangeError if `seq`
   * would leave the safe integers. The state is unchanged.
   */
  end(): void {
    if (Atomics.load(this.#i32, IN_PROGRESS) === 0) throw new InvalidationEndWithoutBeginError();
    if (this.#readSeq() === Number.MAX_SAFE_INTEGER) {
      throw new RangeError('seq would pass Number.MAX_SAFE_INTEGER; sequences do not wrap');
    }
    this.endBumpSeq();
    this.endDropCount();
  }

  /**
   * First step of end(): seq++ (writers are serialized by the lock). On a carry the high word
   * is written twice, around the low word: hi2, lo, hi1 (pairs with #readSeq()).
   */
  protected endBumpSeq(): void {
    const w = this.#i32;
    const lo = Atomics.load(w, SEQ_LO);
    if (lo === -1) {
      const hi = Atomics.load(w, SEQ_HI2) + 1;
      Atomics.store(w, SEQ_HI2, hi);
      Atomics.store(w, SEQ_LO, 0);
      Atomics.store(w, SEQ_HI1, hi);
    } else {
      Atomics.store(w, SEQ_LO, lo + 1);
    }
  }

  /** Second step of end(): inProgress--, after the seq bump in the SC order. */
  protected endDropCount(): void {
    Atomics.sub(this.#i32, IN_PROGRESS, 1);
  }

  /** Reads seq (Atomics loads) before the page is resolved. No lock. */
  snapshot(): number {
    return this.#readSeq();
  }

  /**
   * Like mmu_invalidate_retry(): count first, then seq, both Atomics loads, so it is also
   * correct without the lock (the kernel's PPC callers hold only a per-page lock).
   */
  retry(seq: number): boolean {
    checkIndex(seq, 'seq');
    if (Atomics.load(this.#i32, IN_PROGRESS) !== 0) return true;
    return this.#readSeq() !== seq;
  }

  /**
   * Like mmu_invalidate_retry_gfn(); the caller must hold the SharedMmuLock (it reads with plain
   * loads, exact only under the lock). In progress without a range retries (the kernel's WARN
   * path).
   */
  retryGfn(seq: number, gfn: number): boolean {
    checkIndex(seq, 'seq');
    checkIndex(gfn, 'gfn');
    // Plain loads: every writer holds the lock we hold, and our lock acquire synchronized with
    // the last writer's unlock, so these reads are exact (and cheaper than Atomics loads).
    if (this.#i32[IN_PROGRESS] !== 0) {
      const s = this.#f64[RANGE_START]!;
      if (s === 0) return true;
      if (gfn + 1 >= s && gfn + 1 < this.#f64[RANGE_END]!) return true;
    }
    return this.#readSeqLocked() !== seq;
  }

  /**
   * Like mmu_invalidate_retry_gfn_unsafe(): no lock. inProgress and seq are Atomics loads (so a
   * retry loop always observes the count's 1 -> 0 transition); the range is read racily and may
   * be stale or torn. Wrong both ways at times; confirm a `false` with retryGfn() under the lock.
   */
  retryGfnUnsafe(seq: number, gfn: number): boolean {
    checkIndex(seq, 'seq');
    checkIndex(gfn, 'gfn');
    if (
      Atomics.load(this.#i32, IN_PROGRESS) !== 0 &&
      gfn + 1 >= this.#f64[RANGE_START]! &&
      gfn + 1 < this.#f64[RANGE_END]!
    ) {
      return true;
    }
    return this.#readSeq() !== seq;
  }

  /**
   * Like mmu_notifier_retry_cache(): no lock; any invalidation in progress, or any ended since
   * `seq`. Count first, then seq, pairing with end()'s order.
   */
  retryCache(seq: number): boolean {
    checkIndex(seq, 'seq');
    if (Atomics.load(this.#i32, IN_PROGRESS) !== 0) return true;
    return this.#readSeq() !== seq;
  }
}
