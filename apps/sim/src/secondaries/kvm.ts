import {
  type FaultOptions,
  type FaultTracker,
  faultWithRetry,
  InvalidationTracker,
  type KvmNotifier,
  kvmNotifierOps,
} from '@mmukit/fault-retry';
import { IntervalTree } from '@mmukit/interval-tree';
import type { MmuNotifier, NotifierLock } from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimSpinLock } from '../locks.js';
import { type AddressSpace, EFAULT, EPERM, PAGE_SIZE, type PageRef } from '../primary/mm.js';
import type { Task } from '../scheduler.js';
import { FAULT_BEGIN, FAULT_END } from '../trace.js';
import { Errno, errnoOf, PreemptibleLock } from './glue.js';

/** A memslot: guest frames [gfn, gfn + npages) backed by host pages [hva, hva + npages). */
export interface Memslot {
  gfn: number;
  hva: number;
  npages: number;
}

/** Deliberate bugs for the checker's negative controls. */
export interface KvmBugs {
  /** Install the resolved page without the retry check (a tracker that never sees a collision). */
  skipRetry?: boolean;
  /** invalidateRangeStart does the tracker bookkeeping but leaves the shadow PTEs in place. */
  skipZap?: boolean;
}

/** A vCPU's fault in progress, and the faultWithRetry options made once for the vCPU. */
interface VcpuFault {
  gfn: number;
  hva: number;
  write: boolean;
  options: FaultOptions<PageRef>;
}

const SPTE_WRITE = 1;
const SPTE_YOUNG = 2;

/** BUG(kvm-no-retry): a tracker whose checks never see an invalidation. */
const NO_RETRY: FaultTracker = {
  snapshot: () => 0,
  retryGfn: () => false,
  retryGfnUnsafe: () => false,
};

/**
 * A KVM-style guest: memslots (guest frame -> host page), a shadow page table indexed by guest
 * frame, vCPUs that fault through faultWithRetry(), and a classic notifier subscription whose
 * start/end are kvmNotifierOps(): they feed the InvalidationTracker exactly as
 * kvm_mmu_notifier_invalidate_range_start/end do (under mmu_lock, begin() once for the first
 * overlapping memslot, rangeAdd() + zap per memslot; end() in invalidateRangeEnd; no memslot
 * overlapping = the tracker is not touched) and count mn_active_invalidate_count. Aging ops
 * report and clear the shadow accessed bits.
 */
export class KvmGuest implements SecondaryView {
  readonly name = 'kvm';
  readonly tracker = new InvalidationTracker();
  /** mmu_lock (a SimSpinLock) as faultWithRetry and kvmNotifierOps take it. */
  private readonly lock: NotifierLock;
  /** The notifier's start/end, and mn_active_invalidate_count (`activeInvalidations`). */
  readonly ops: KvmNotifier;
  readonly guestPages: number;
  private readonly slots: Memslot[];
  private readonly byHva = new IntervalTree<Memslot>();
  private readonly sptFrame: Int32Array;
  private readonly sptGen: Float64Array;
  private readonly sptFlags: Uint8Array;
  private readonly notifier: MmuNotifier;
  private readonly vcpuFaults = new Map<Task, VcpuFault>();

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
    this.lock = new SimSpinLock(mm.ctx.sched, 'kvm->mmu_lock').notifierLock();
    this.ops = kvmNotifierOps({
      tracker: this.tracker,
      lock: this.lock,
      memslots: slots.map((s) => ({
        userspaceAddr: s.hva * PAGE_SIZE,
        baseGfn: s.gfn,
        npages: s.npages,
      })),
      pageSize: PAGE_SIZE,
      zap: (g0, g1) => {
        if (!bugs.skipZap) this.sptFrame.fill(-1, g0, g1); // BUG(kvm-no-zap): no fill
        mm.ev(mm.ctx.sched.current!, 'kvm zap', g0, g1, this.tracker.inProgress);
      },
    });
    this.notifier = mm.subs.register({
      invalidateRangeStart: this.ops.invalidateRangeStart,
      invalidateRangeEnd: this.ops.invalidateRangeEnd,
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
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (gfn >= s.gfn && gfn < s.gfn + s.npages) return s.hva + (gfn - s.gfn);
    }
    return -1;
  }

  // ---- notifier side -----------------------------------------------------------------------

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

  // ---- vCPU side ---------------------------------------------------------------------------

  /**
   * One guest access to `gfn`: through the shadow PTE, faulting it in as needed. Undefined when
   * the shadow PTE allowed it at once, else the promise of the faults and re-entries.
   */
  access(t: Task, gfn: number, write: boolean): Promise<void> | undefined {
    return this.hit(t, gfn, write) ? undefined : this.faultAndRetry(t, gfn, write);
  }

  /** The access through the shadow PTE if it allows it (then true), else false. */
  private hit(t: Task, gfn: number, write: boolean): boolean {
    const f = this.sptFrame[gfn]!;
    if (f < 0 || (write && (this.sptFlags[gfn]! & SPTE_WRITE) === 0)) return false;
    const hva = this.hvaOf(gfn);
    const g = this.sptGen[gfn]!;
    this.sptFlags[gfn] = this.sptFlags[gfn]! | SPTE_YOUNG;
    this.mm.ctx.stats.accesses.kvm++;
    if (write) this.mm.ev(t, 'kvm write', hva, f, this.checker.write('kvm', hva, f, g));
    else this.mm.ev(t, 'kvm read', hva, f, this.checker.read('kvm', hva, f, g));
    return true;
  }

  /**
   * The rest of access() after a miss: up to 4 attempts, each a fault then a re-entry. A fault
   * is the EPT-violation path: resolve gfn -> hva -> page (GUP), install under mmu_lock
   * (faultWithRetry, with the vCPU's options), holding mm_users across it.
   */
  private async faultAndRetry(t: Task, gfn: number, write: boolean): Promise<void> {
    const stats = this.mm.ctx.stats;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0 && this.hit(t, gfn, write)) return;
      stats.faults.kvm++;
      this.mm.note(t, FAULT_BEGIN.kvm, gfn, write ? 1 : 0);
      let r = EFAULT;
      const hva = this.hvaOf(gfn);
      if (hva >= 0 && this.mm.get()) {
        const c = this.vcpuFault(t);
        c.gfn = gfn;
        c.hva = hva;
        c.write = write;
        c.options.gfn = gfn;
        try {
          const { retries } = await faultWithRetry(c.options);
          stats.retries.kvm += retries;
          r = 0;
        } catch (error) {
          r = errnoOf(error);
        } finally {
          this.mm.put();
        }
      }
      this.mm.note(t, FAULT_END, r);
      if (r < 0) {
        if (r === EPERM) stats.eperm++;
        else stats.efault++;
        return;
      }
      // The guest re-executes the access; the SPTE may already be gone again.
      await this.mm.ctx.sched.yield(t, 'vcpu re-enter guest');
    }
  }

  /**
   * vCPU `t`'s fault state and the faultWithRetry options that read it, made at its first fault
   * and reused by the next ones (a vCPU has one fault at a time; faultWithRetry reads the
   * options when called): no closures per fault.
   */
  private vcpuFault(t: Task): VcpuFault {
    let c = this.vcpuFaults.get(t);
    if (c !== undefined) return c;
    const { sched } = this.mm.ctx;
    const fault: VcpuFault = {
      gfn: 0,
      hva: 0,
      write: false,
      options: {
        tracker: this.bugs.skipRetry ? NO_RETRY : this.tracker,
        gfn: 0,
        lock: new PreemptibleLock(sched, t, this.lock, 'kvm: take mmu_lock'),
        resolve: () => this.resolve(t, fault),
        install: (ref) => this.install(t, fault, ref),
        backoff: () => sched.spinYield(t, 'kvm fault retry'),
      },
    };
    c = fault;
    this.vcpuFaults.set(t, c);
    return c;
  }

  /** The fault's resolve(): GUP of the host page (errors thrown as Errno). */
  private async resolve(t: Task, c: VcpuFault): Promise<PageRef> {
    const got = this.mm.gup(t, c.hva, c.write);
    const r = got instanceof Promise ? await got : got;
    if (typeof r === 'number') throw Errno.of(r);
    // The vCPU can be preempted between hva_to_pfn() and taking mmu_lock.
    await this.mm.ctx.sched.yield(t, 'kvm: pfn resolved');
    return r;
  }

  /** The fault's install(), under mmu_lock after the retry check passed. */
  private install(t: Task, c: VcpuFault, ref: PageRef): void {
    const gfn = c.gfn;
    this.checker.onInstall('kvm', c.hva, ref.frame, ref.gen, ref.writable);
    this.sptFrame[gfn] = ref.frame;
    this.sptGen[gfn] = ref.gen;
    this.sptFlags[gfn] = ref.writable ? SPTE_WRITE : 0;
    this.mm.ev(t, 'kvm install', gfn, ref.frame, ref.writable ? 1 : 0);
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
