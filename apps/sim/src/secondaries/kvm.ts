import { faultWithRetry, InvalidationTracker } from '@mmukit/fault-retry';
import { IntervalTree } from '@mmukit/interval-tree';
import type { MmuNotifier, MmuNotifierRange } from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimSpinLock } from '../locks.js';
import { type AddressSpace, EFAULT, EPERM, PAGE_SIZE, type PageRef } from '../primary/mm.js';
import type { Task } from '../scheduler.js';

/** A memslot: guest frames [gfn, gfn + npages) backed by host pages [hva, hva + npages). */
export interface Memslot {
  gfn: number;
  hva: number;
  npages: number;
}

/** Deliberate bugs for the checker's negative controls. */
export interface KvmBugs {
  /** Install the resolved page without the tracker's retry check (no faultWithRetry). */
  skipRetry?: boolean;
  /** invalidateRangeStart does the tracker bookkeeping but leaves the shadow PTEs in place. */
  skipZap?: boolean;
}

/** vCPU faults are never aborted (there is no signal delivery in the model). */
const NEVER_ABORTED = new AbortController().signal;

const SPTE_WRITE = 1;
const SPTE_YOUNG = 2;

class GupError extends Error {
  constructor(readonly code: number) {
    super(`gup failed: ${code}`);
  }
}

/**
 * One GupError per errno, made once: it only carries the code out of faultWithRetry's resolve,
 * so there is no reason to capture a stack trace per failed GUP (that was ~1% of a run).
 */
const GUP_ERRORS = new Map<number, GupError>();
function gupError(code: number): GupError {
  let e = GUP_ERRORS.get(code);
  if (e === undefined) {
    e = new GupError(code);
    GUP_ERRORS.set(code, e);
  }
  return e;
}

/**
 * A KVM-style guest: memslots (guest frame -> host page), a shadow page table indexed by guest
 * frame, vCPUs that fault through faultWithRetry(), and a classic notifier subscription that
 * feeds the InvalidationTracker exactly as kvm_mmu_notifier_invalidate_range_start/end do:
 * under mmu_lock, begin() once for the first overlapping memslot, rangeAdd() per memslot, zap;
 * end() in invalidateRangeEnd. No memslot overlapping = the tracker is not touched (and the end
 * re-walks the same memslots, which never change here). Aging ops report and clear the shadow
 * accessed bits.
 */
export class KvmGuest implements SecondaryView {
  readonly name = 'kvm';
  readonly tracker = new InvalidationTracker();
  readonly mmuLock: SimSpinLock;
  readonly guestPages: number;
  /** mn_active_invalidate_count. */
  activeInvalidateCount = 0;
  private readonly slots: Memslot[];
  private readonly byHva = new IntervalTree<Memslot>();
  private readonly sptFrame: Int32Array;
  private readonly sptGen: Float64Array;
  private readonly sptFlags: Uint8Array;
  private readonly notifier: MmuNotifier;

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    slots: Memslot[],
    private readonly bugs: KvmBugs = {},
  ) {
    this.slots = slots;
    let n = 0;
    for (const s of slots) {
      this.byHva.insert(s.hva, s.hva + s.npages - 1, s);
      n = Math.max(n, s.gfn + s.npages);
    }
    this.guestPages = n;
    this.sptFrame = new Int32Array(n).fill(-1);
    this.sptGen = new Float64Array(n);
    this.sptFlags = new Uint8Array(n);
    this.mmuLock = new SimSpinLock(mm.ctx.sched, 'kvm->mmu_lock');
    this.notifier = mm.subs.register({
      invalidateRangeStart: (_sub, range) => this.invalidateStart(range),
      invalidateRangeEnd: (_sub, range) => this.invalidateEnd(range),
      clearFlushYoung: (_sub, start, end) => this.age(start, end, true),
      clearYoung: (_sub, start, end) => this.age(start, end, true),
      testYoung: (_sub, start, end) => this.age(start, end, false),
      release: () => this.flushAll(),
    });
  }

  /** The classic subscription (for unregister). */
  get subscription(): MmuNotifier {
    return this.notifier;
  }

  /** Host page backing `gfn`, or -1. */
  hvaOf(gfn: number): number {
    for (const s of this.slots)
      if (gfn >= s.gfn && gfn < s.gfn + s.npages) return s.hva + (gfn - s.gfn);
    return -1;
  }

  // ---- notifier side -----------------------------------------------------------------------

  /** kvm_mmu_notifier_invalidate_range_start(): never fails, never sleeps. */
  private invalidateStart(range: MmuNotifierRange): boolean {
    const t = this.currentTask();
    this.activeInvalidateCount++;
    const s = range.start / PAGE_SIZE;
    const e = range.end / PAGE_SIZE;
    let locked = false;
    this.byHva.forEachOverlap(s, e - 1, (node) => {
      const slot = node.value;
      if (!locked) {
        this.lockOrFail(t);
        locked = true;
        this.tracker.begin(); // kvm_mmu_invalidate_begin(), once, on the first memslot
      }
      const g0 = slot.gfn + Math.max(s, slot.hva) - slot.hva;
      const g1 = slot.gfn + Math.min(e, slot.hva + slot.npages) - slot.hva;
      this.tracker.rangeAdd(g0, g1);
      if (!this.bugs.skipZap) for (let g = g0; g < g1; g++) this.sptFrame[g] = -1;
    });
    if (locked) {
      this.mm.ev(
        t,
        'kvm zap',
        this.tracker.rangeStart ?? -1,
        this.tracker.rangeEnd ?? -1,
        this.tracker.inProgress,
      );
      this.mmuLock.unlock(t);
    }
    return true;
  }

  /** kvm_mmu_notifier_invalidate_range_end(). */
  private invalidateEnd(range: MmuNotifierRange): void {
    const s = range.start / PAGE_SIZE;
    const e = range.end / PAGE_SIZE;
    if (this.byHva.iterFirst(s, e - 1) !== undefined) {
      const t = this.currentTask();
      this.lockOrFail(t);
      this.tracker.end(); // bumps seq before dropping in_progress
      this.mmuLock.unlock(t);
    }
    this.activeInvalidateCount--;
  }

  /** kvm_age_hva_range(): report (and optionally clear) shadow accessed bits. */
  private age(start: number, end: number, clear: boolean): boolean {
    let young = false;
    this.byHva.forEachOverlap(start / PAGE_SIZE, end / PAGE_SIZE - 1, (node) => {
      const slot = node.value;
      const s = Math.max(start / PAGE_SIZE, slot.hva);
      const e = Math.min(end / PAGE_SIZE, slot.hva + slot.npages);
      for (let h = s; h < e; h++) {
        const g = slot.gfn + h - slot.hva;
        if (this.sptFrame[g]! >= 0 && (this.sptFlags[g]! & SPTE_YOUNG) !== 0) {
          young = true;
          if (clear) this.sptFlags[g] = this.sptFlags[g]! & ~SPTE_YOUNG;
        }
      }
    });
    return young;
  }

  /** kvm_mmu_notifier_release() -> kvm_flush_shadow_all(). */
  private flushAll(): void {
    this.sptFrame.fill(-1);
  }

  private currentTask(): Task {
    const t = this.mm.ctx.sched.current;
    if (t === null) throw new Error('KVM notifier callback outside any task');
    return t;
  }

  private lockOrFail(t: Task): void {
    if (!this.mmuLock.tryLock(t)) {
      this.checker.fail(`kvm: mmu_lock held by ${this.mmuLock.holder?.name} across a sleep`);
    }
  }

  // ---- vCPU side ---------------------------------------------------------------------------

  /** One guest access to `gfn`: through the shadow PTE, faulting it in as needed. */
  async access(t: Task, gfn: number, write: boolean): Promise<void> {
    const stats = this.mm.ctx.stats;
    for (let attempt = 0; attempt < 4; attempt++) {
      const f = this.sptFrame[gfn]!;
      if (f >= 0 && (!write || (this.sptFlags[gfn]! & SPTE_WRITE) !== 0)) {
        const hva = this.hvaOf(gfn);
        const g = this.sptGen[gfn]!;
        this.sptFlags[gfn] = this.sptFlags[gfn]! | SPTE_YOUNG;
        stats.accesses.kvm++;
        if (write) this.mm.ev(t, 'kvm write', hva, f, this.checker.write('kvm', hva, f, g));
        else this.mm.ev(t, 'kvm read', hva, f, this.checker.read('kvm', hva, f, g));
        return;
      }
      stats.faults.kvm++;
      const r = await this.fault(t, gfn, write);
      if (r < 0) {
        if (r === EPERM) stats.eperm++;
        else stats.efault++;
        return;
      }
      // The guest re-executes the access; the SPTE may already be gone again.
      await this.mm.ctx.sched.yield(t, 'vcpu re-enter guest');
    }
  }

  /** The EPT-violation path: resolve gfn -> hva -> page (GUP), install under mmu_lock. */
  private async fault(t: Task, gfn: number, write: boolean): Promise<number> {
    const hva = this.hvaOf(gfn);
    if (hva < 0 || !this.mm.get()) return EFAULT;
    try {
      const resolve = async (): Promise<PageRef> => {
        const r = await this.mm.gup(t, hva, write);
        if (typeof r === 'number') throw gupError(r);
        // The vCPU can be preempted between hva_to_pfn() and taking mmu_lock.
        await this.mm.ctx.sched.yield(t, 'kvm: pfn resolved');
        return r;
      };
      const install = (ref: PageRef): void => {
        this.checker.onInstall('kvm', hva, ref.frame, ref.gen, ref.writable);
        this.sptFrame[gfn] = ref.frame;
        this.sptGen[gfn] = ref.gen;
        this.sptFlags[gfn] = ref.writable ? SPTE_WRITE : 0;
        this.mm.ev(t, 'kvm install', gfn, ref.frame, ref.writable ? 1 : 0);
      };
      if (this.bugs.skipRetry) {
        const ref = await resolve();
        const release = await this.mmuLock.asMmuLock(t).acquire();
        install(ref);
        release();
        return 0;
      }
      const { retries } = await faultWithRetry({
        tracker: this.tracker,
        gfn,
        lock: this.mmuLock.asMmuLock(t),
        resolve,
        install,
        backoff: () => this.mm.ctx.sched.yield(t, 'kvm fault retry'),
        signal: NEVER_ABORTED,
      });
      this.mm.ctx.stats.retries.kvm += retries;
      return 0;
    } catch (error) {
      if (error instanceof GupError) return error.code;
      throw error;
    } finally {
      this.mm.put();
    }
  }

  // ---- checker view ------------------------------------------------------------------------

  forEachTranslation(fn: TranslationVisitor): void {
    for (const s of this.slots) this.visit(s, s.hva, s.hva + s.npages, fn);
  }

  forEachTranslationIn(start: number, end: number, fn: TranslationVisitor): void {
    this.byHva.forEachOverlap(start, end - 1, (node) => {
      this.visit(
        node.value,
        Math.max(start, node.value.hva),
        Math.min(end, node.value.hva + node.value.npages),
        fn,
      );
    });
  }

  private visit(s: Memslot, from: number, to: number, fn: TranslationVisitor): void {
    for (let h = from; h < to; h++) {
      const g = s.gfn + h - s.hva;
      const f = this.sptFrame[g]!;
      if (f >= 0) fn(h, f, this.sptGen[g]!, (this.sptFlags[g]! & SPTE_WRITE) !== 0);
    }
  }
}
