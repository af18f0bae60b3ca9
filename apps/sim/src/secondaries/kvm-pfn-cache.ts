import type { Checker, TranslationVisitor } from '../checker.js';
import type { AddressSpace } from '../primary/mm.js';
import type { Task } from '../scheduler.js';
import type { OracleFaultTracker, TrackerOracle } from './kvm-oracle.js';

/**
 * KVM's gfn_to_pfn_cache (virt/kvm/pfncache.c) for one guest frame: a host frame cached outside
 * the shadow page table and used by the vCPUs without faulting (steal time, Xen shared info).
 *
 * - invalidate: KVM's invalidate_range_start marks every cache in the range invalid after
 *   begin() raised the in-progress count (here from the zap, which runs after begin() and
 *   rangeAdd() under mmu_lock), so a refresh that checks after it sees the count.
 * - refresh (hva_to_pfn_retry): mark invalid, then loop { seq = snapshot; GUP without the cache
 *   lock; } while retryCache(seq), and only then valid. retryCache is lockless and
 *   range-agnostic: any invalidation in progress or ended since the snapshot retries.
 * - use: valid ? access the cached frame : refresh. The check and the use are one synchronous
 *   step (the cache's read lock).
 */
export class PfnCache {
  private valid = false;
  private frame = -1;
  private gen = 0;
  private writable = false;
  /** Set by the notifier's release: the cache is never valid again. */
  private released = false;
  private readonly tracker: OracleFaultTracker;

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    oracle: TrackerOracle,
    /** The host page and the guest frame cached. */
    readonly hva: number,
    readonly gfn: number,
  ) {
    this.tracker = oracle.faultSide();
  }

  /** gfn_to_pfn_cache_invalidate_start() for the zapped gfns `[g0, g1)`. */
  invalidate(g0: number, g1: number): void {
    if (this.gfn >= g0 && this.gfn < g1) this.valid = false;
  }

  /** The notifier's release (exit): the cache is dropped for good. */
  release(): void {
    this.valid = false;
    this.released = true;
  }

  /** A vCPU's use of the cached page: the access if valid, else a refresh (the promise). */
  use(t: Task, write: boolean): Promise<void> | undefined {
    if (this.valid && (!write || this.writable)) {
      const { mm, checker } = this;
      mm.ctx.stats.accesses.kvm++;
      if (write)
        mm.ev(
          t,
          'gpc write',
          this.hva,
          this.frame,
          checker.write('kvm', this.hva, this.frame, this.gen),
        );
      else
        mm.ev(
          t,
          'gpc read',
          this.hva,
          this.frame,
          checker.read('kvm', this.hva, this.frame, this.gen),
        );
      return undefined;
    }
    return this.refresh(t, write);
  }

  /** hva_to_pfn_retry(): GUP until no invalidation collided (retryCache), then valid. */
  private async refresh(t: Task, write: boolean): Promise<void> {
    const { mm } = this;
    this.valid = false;
    if (!mm.get()) return;
    try {
      for (let tries = 0; tries < 8; tries++) {
        const seq = this.tracker.snapshot();
        const got = mm.gup(t, this.hva, write);
        const r = got instanceof Promise ? await got : got;
        if (typeof r === 'number') return; // the cache stays invalid (-EFAULT to the caller)
        // Preemptible before the cache lock is taken again.
        await mm.ctx.sched.yield(t, 'gpc: pfn resolved');
        if (this.tracker.retryCache(seq)) continue;
        if (this.released) return;
        this.checker.onInstall('kvm', this.hva, r.frame, r.gen, r.writable);
        this.valid = true;
        this.frame = r.frame;
        this.gen = r.gen;
        this.writable = r.writable;
        mm.ev(t, 'gpc refreshed', this.hva, r.frame, r.writable ? 1 : 0);
        return;
      }
    } finally {
      mm.put();
    }
  }

  /** The cached translation, if valid and its host page lies in `[start, end)`. */
  visit(start: number, end: number, fn: TranslationVisitor): void {
    if (this.valid && this.hva >= start && this.hva < end) {
      fn(this.hva, this.frame, this.gen, this.writable);
    }
  }
}
