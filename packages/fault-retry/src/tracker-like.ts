/**
 * The contract shared by {@link InvalidationTracker} (one thread) and
 * {@link SharedInvalidationTracker} (worker threads over a SharedArrayBuffer), and what
 * {@link faultWithRetry} needs from a tracker.
 *
 * Mirrors the `mmu_invalidate_*` fields of `struct kvm` and their helpers in kvm_host.h /
 * kvm_main.c. Who must hold the MMU lock is stated per method.
 */
export interface InvalidationTrackerLike {
  /** `mmu_invalidate_seq`: bumped once by every `end()`. Starts at 0 (or `initialSeq`). */
  readonly seq: number;
  /** `mmu_invalidate_in_progress`: number of invalidations between `begin()` and `end()`. */
  readonly inProgress: number;
  /** Merged range start (inclusive), or `undefined` while none was added (INVALID_GPA). */
  readonly rangeStart: number | undefined;
  /** Merged range end (exclusive), or `undefined` while none was added (INVALID_GPA). */
  readonly rangeEnd: number | undefined;
  /** kvm_mmu_invalidate_begin(). Caller holds the MMU lock. */
  begin(): void;
  /** kvm_mmu_invalidate_range_add(). Caller holds the MMU lock, inside begin()/end(). */
  rangeAdd(start: number, end: number): void;
  /** kvm_mmu_invalidate_end(). Caller holds the MMU lock. */
  end(): void;
  /** Read `seq` before resolving the page. No lock. */
  snapshot(): number;
  /** mmu_invalidate_retry(). Caller holds the MMU lock (or a lock ordering it against end()). */
  retry(seq: number): boolean;
  /** mmu_invalidate_retry_gfn(). Caller holds the MMU lock. */
  retryGfn(seq: number, gfn: number): boolean;
  /** mmu_invalidate_retry_gfn_unsafe(). No lock; a hint only, redo retryGfn() under the lock. */
  retryGfnUnsafe(seq: number, gfn: number): boolean;
  /** mmu_notifier_retry_cache() (pfncache). No lock. */
  retryCache(seq: number): boolean;
}

/** Options accepted by both tracker constructors/factories. */
export interface InvalidationTrackerOptions {
  /**
   * First value of `seq` (default 0, as `kvm->mmu_invalidate_seq` after kzalloc). A safe
   * integer >= 0; useful to test behaviour near 2^32 or near `Number.MAX_SAFE_INTEGER`.
   */
  initialSeq?: number;
}
