import { InvalidationEndWithoutBeginError, RangeAddOutsideInvalidationError } from './errors.js';
import type { InvalidationTrackerLike, InvalidationTrackerOptions } from './tracker-like.js';
import { checkIndex, checkRange, INVALID_GFN } from './validate.js';

/**
 * KVM's invalidation bookkeeping for one address space, for a single thread (async tasks).
 *
 * The collision-retry scheme (kvm_main.c, kvm_host.h):
 * - An invalidator calls `begin()` and `rangeAdd()` under the MMU lock before it changes the
 *   primary mapping, and `end()` under the MMU lock after it is done.
 * - A fault takes `snapshot()` before it resolves the page (which may sleep, without the lock),
 *   then takes the MMU lock and calls `retryGfn(seq, gfn)`; it installs the page only on `false`.
 * - `false` under the lock proves no invalidation covering `gfn` is running (it would be counted
 *   in `inProgress` with `gfn` inside the merged range) and none ended since the snapshot (it
 *   would have bumped `seq`). An invalidation that begins later must first take the lock, so it
 *   sees, and zaps, whatever the fault installed.
 *
 * Here a kernel spinlock section is synchronous code, so each method is atomic with respect to
 * other tasks; "holds the MMU lock" means the caller holds whatever {@link MmuLock} the fault path
 * takes around `retryGfn()` + install.
 *
 * Sequence values are safe integers and never wrap.
 */
export class InvalidationTracker implements InvalidationTrackerLike {
  #seq: number;
  #inProgress = 0;
  // INVALID_GFN while no range was added in this burst (the kernel's INVALID_GPA).
  #rangeStart = INVALID_GFN;
  #rangeEnd = INVALID_GFN;

  /** Creates an idle tracker: `seq` = `initialSeq` (default 0), nothing in progress, no range. */
  constructor(options: InvalidationTrackerOptions = {}) {
    const initialSeq = options.initialSeq ?? 0;
    checkIndex(initialSeq, 'initialSeq');
    this.#seq = initialSeq;
  }

  /** Current `mmu_invalidate_seq`. */
  get seq(): number {
    return this.#seq;
  }
  /** Current `mmu_invalidate_in_progress`. */
  get inProgress(): number {
    return this.#inProgress;
  }
  /** Start (inclusive) of the merged range, `undefined` before the burst's first rangeAdd(). */
  get rangeStart(): number | undefined {
    return this.#rangeStart === INVALID_GFN ? undefined : this.#rangeStart;
  }
  /** End (exclusive) of the merged range, `undefined` before the burst's first rangeAdd(). */
  get rangeEnd(): number | undefined {
    return this.#rangeEnd === INVALID_GFN ? undefined : this.#rangeEnd;
  }

  /**
   * One more invalidation is in progress. When it is the first of a burst (0 -> 1) the merged
   * range is reset to "none" (INVALID_GPA). Like kvm_mmu_invalidate_begin(); the caller holds
   * the MMU lock, which is what makes the raised count visible to every later locked check.
   */
  begin(): void {
    this.#inProgress++;
    if (this.#inProgress === 1) {
      this.#rangeStart = INVALID_GFN;
      this.#rangeEnd = INVALID_GFN;
    }
  }

  /**
   * Adds the gfn range `[start, end)` being invalidated. The burst's first range is stored as
   * is; later ones widen the stored range to the union hull (`min` of starts, `max` of ends),
   * never shrunk until a new burst begins. Like kvm_mmu_invalidate_range_add(); the caller
   * holds the MMU lock and is between begin() and end().
   * @throws TypeError/RangeError for a bad or empty range, RangeAddOutsideInvalidationError
   * when nothing is in progress; the state is unchanged.
   */
  rangeAdd(start: number, end: number): void {
    checkRange(start, end);
    if (this.#inProgress === 0) throw new RangeAddOutsideInvalidationError();
    if (this.#rangeStart === INVALID_GFN) {
      this.#rangeStart = start;
      this.#rangeEnd = end;
    } else {
      // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
      if (start < this.#rangeStart) this.#rangeStart = start;
      // Stryker disable next-line EqualityOperator: equivalent: on equality the assignment writes the same value.
      if (end > this.#rangeEnd) this.#rangeEnd = end;
    }
  }

  /**
   * One invalidation finished: bumps `seq`, then drops `inProgress`. The range is left as is
   * (the next burst's begin() resets it). Like kvm_mmu_invalidate_end(); the caller holds the
   * MMU lock. An end() without any rangeAdd() is allowed (the kernel only warns).
   * @throws InvalidationEndWithoutBeginError when nothing is in progress; RangeError if `seq`
   * would leave the safe integers. The state is unchanged.
   */
  end(): void {
    if (this.#inProgress === 0) throw new InvalidationEndWithoutBeginError();
    if (this.#seq === Number.MAX_SAFE_INTEGER) {
      throw new RangeError('seq would pass Number.MAX_SAFE_INTEGER; sequences do not wrap');
    }
    // Order: seq first, count second (the kernel's smp_wmb() between them). A checker that
    // sees the count dropped also sees the new seq. In one thread nobody can run between the
    // two steps; the split exists so the order is testable and matches the shared variant.
    this.endBumpSeq();
    this.endDropCount();
  }

  /** First step of end(): `seq++`. Protected so a test subclass can observe between the steps. */
  protected endBumpSeq(): void {
    this.#seq++;
  }

  /** Second step of end(): `inProgress--`. */
  protected endDropCount(): void {
    this.#inProgress--;
  }

  /**
   * The sequence to pass to the retry checks later. Take it before resolving the page (before
   * reading anything of the primary MMU's state). No lock needed.
   * Like `fault->mmu_seq = kvm->mmu_invalidate_seq; smp_rmb();` in kvm_faultin_pfn().
   */
  snapshot(): number {
    return this.#seq;
  }

  /**
   * True if any invalidation is in progress or any ended since `seq` was taken. Range-agnostic.
   * Like mmu_invalidate_retry(); call it under the MMU lock.
   */
  retry(seq: number): boolean {
    checkIndex(seq, 'seq');
    if (this.#inProgress !== 0) return true;
    return this.#seq !== seq;
  }

  /**
   * True if a page for `gfn` resolved after snapshot `seq` may be stale: an invalidation in
   * progress whose merged range contains `gfn` (`start <= gfn < end`), or any invalidation that
   * ended since the snapshot. An invalidation in progress elsewhere does not force a retry.
   * False positives are possible (the merged hull), false negatives are not.
   * In progress with no range added yet returns true (the kernel WARNs and retries).
   * Like mmu_invalidate_retry_gfn(); call it under the MMU lock.
   */
  retryGfn(seq: number, gfn: number): boolean {
    checkIndex(seq, 'seq');
    checkIndex(gfn, 'gfn');
    if (this.#inProgress !== 0) {
      if (this.#rangeStart === INVALID_GFN) return true;
      if (gfn >= this.#rangeStart && gfn < this.#rangeEnd) return true;
    }
    return this.#seq !== seq;
  }

  /**
   * The same test as retryGfn() for callers that do not hold the MMU lock, to skip a lock
   * round-trip when a retry is certain. May be wrong both ways; a `false` must be confirmed by
   * retryGfn() under the lock. Like mmu_invalidate_retry_gfn_unsafe(). In one thread it reads
   * the same state as retryGfn(), except that an in-progress burst without a range says false.
   */
  retryGfnUnsafe(seq: number, gfn: number): boolean {
    checkIndex(seq, 'seq');
    checkIndex(gfn, 'gfn');
    if (this.#inProgress !== 0 && gfn >= this.#rangeStart && gfn < this.#rangeEnd) return true;
    return this.#seq !== seq;
  }

  /**
   * Lockless check for readers that hold no MMU lock (a cache revalidated without it): true if
   * any invalidation is in progress or any ended since `seq`. Range-agnostic.
   * Like mmu_notifier_retry_cache() in pfncache.c, which reads `mn_active_invalidate_count`;
   * here the invalidator's begin() plays that role, so a cache must be invalidated after begin().
   */
  retryCache(seq: number): boolean {
    checkIndex(seq, 'seq');
    if (this.#inProgress !== 0) return true;
    return this.#seq !== seq;
  }
}
