import {
  FaultAbortedError,
  type FaultOptions,
  type FaultTracker,
  faultWithRetry,
  InvalidationTracker,
  type KvmMemslot,
  type KvmNotifier,
  type KvmNotifierRange,
  kvmNotifierOps,
} from '@mmukit/fault-retry';
import { IntervalTree } from '@mmukit/interval-tree';
import type { MmuNotifier, NotifierLock } from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimSpinLock } from '../locks.js';
import {
  type AddressSpace,
  EFAULT,
  EINTR,
  ENOMEM,
  EPERM,
  InjectedCallbackError,
  PAGE_SIZE,
  type PageRef,
} from '../primary/mm.js';
import type { Prng } from '../prng.js';
import { SimRtLock } from '../rt-lock.js';
import type { Task } from '../scheduler.js';
import { FAULT_BEGIN, FAULT_END } from '../trace.js';
import { Errno, errnoOf, PreemptibleLock } from './glue.js';
import { type OracleFaultTracker, TrackerOracle } from './kvm-oracle.js';
import { PfnCache } from './kvm-pfn-cache.js';

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

/** What a guest does besides x86-style faults (all off by default). */
export interface KvmFeatures {
  /** A gfn_to_pfn_cache over guest frame 0, refreshed with retryCache() and read by vCPUs. */
  pfnCache?: boolean;
  /** Chance that a signal reaches a faulting vCPU after its GUP or between attempts (-EINTR). */
  kick?: number;
  /**
   * PREEMPT_RT: mmu_lock is a sleeping lock (SimRtLock), and a vCPU can be preempted while it
   * holds it, so invalidations find it held: blockable starts wait for it, non-blockable ones
   * (the OOM reaper's) fail with EAGAIN, ends finish once it is free.
   */
  rt?: boolean;
  /**
   * Memslot updates happen (updateMemslots): kvmNotifierOps then reads the memslots through a
   * function, since an update swaps in a new array; without them it gets the array itself.
   */
  memslotUpdates?: boolean;
  /** Draws the kicks and cache uses (needed when either is on). */
  rng?: Prng;
}

/** The core's warning about a classic subscriber with an end whose start returned EAGAIN. */
export const KVM_EAGAIN_WARNING =
  'a classic subscriber whose invalidateRangeStart() returned EAGAIN has an end';

/** A vCPU's fault in progress, and the faultWithRetry options made once for the vCPU. */
interface VcpuFault {
  gfn: number;
  hva: number;
  write: boolean;
  /** Pages resolved (GUP) and not yet released: 0 between faults. */
  pins: number;
  arm64: boolean;
  /** The vCPU's signal state while kicks are on (a fresh controller after each kick). */
  kicker: AbortController | undefined;
  tracker: OracleFaultTracker;
  /** The page install() installed in this fault, and the backoffs (retries) it took. */
  installed: PageRef | undefined;
  backoffs: number;
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
  /** mmu_lock (a SimSpinLock, or the SimRtLock) as faultWithRetry and kvmNotifierOps take it. */
  private readonly lock: NotifierLock;
  private readonly rtLock: SimRtLock | undefined;
  /** The notifier's start/end, and mn_active_invalidate_count (`activeInvalidations`). */
  readonly ops: KvmNotifier;
  readonly guestPages: number;
  private readonly slots: Memslot[];
  /** The memslots as kvmNotifierOps reads them (an update swaps in a new array). */
  private kvmSlots: KvmMemslot[];
  /** Memslot updates done. */
  memslotUpdates = 0;
  /** Starts that failed with EAGAIN (false): each makes the core warn (KVM has an end). */
  private eagainStarts = 0;
  private readonly byHva = new IntervalTree<Memslot>();
  private readonly sptFrame: Int32Array;
  private readonly sptGen: Float64Array;
  private readonly sptFlags: Uint8Array;
  private readonly notifier: MmuNotifier;
  private readonly vcpuFaults = new Map<Task, VcpuFault>();
  /** The sim's account of the tracker, checking each of its answers. */
  private readonly oracle: TrackerOracle;
  /**
   * Zaps done per started range (each overlapping memslot is zapped once per start). A plain map
   * whose entries are reset to 0 rather than deleted: the primary reuses its range objects, so
   * it stays small and allocates nothing per start (about half the cost of a weak map here).
   */
  private readonly zaps = new Map<object, number>();
  readonly cache: PfnCache | undefined;
  private readonly features: KvmFeatures;
  /** vCPUs that fault as arm64 does (see arm64Fault). */
  private readonly arm64Vcpus = new Set<Task>();

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    slots: Memslot[],
    private readonly bugs: KvmBugs = {},
    features: KvmFeatures = {},
  ) {
    this.features = features;
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
    this.kvmSlots = slots.map((s) => ({
      userspaceAddr: s.hva * PAGE_SIZE,
      baseGfn: s.gfn,
      npages: s.npages,
    }));
    this.rtLock = features.rt ? new SimRtLock(mm.ctx.sched, 'kvm->mmu_lock') : undefined;
    this.lock =
      this.rtLock?.notifierLock ?? new SimSpinLock(mm.ctx.sched, 'kvm->mmu_lock').notifierLock();
    this.oracle = new TrackerOracle(this.tracker, (m) => checker.fail(m));
    this.cache = features.pfnCache
      ? new PfnCache(mm, checker, this.oracle, slots[0]!.hva, slots[0]!.gfn)
      : undefined;
    this.ops = kvmNotifierOps({
      tracker: this.oracle.notifierSide(),
      lock: this.lock,
      // Read at every start, as kvm_memslots() is: the current array, or the only one.
      memslots: features.memslotUpdates ? () => this.kvmSlots : this.kvmSlots,
      pageSize: PAGE_SIZE,
      zap: (g0, g1, range) => {
        this.checkZap(g0, g1, range);
        mm.injectCallbackError('kvm'); // kvmNotifierOps undoes the start, the core reports it
        if (!bugs.skipZap) this.sptFrame.fill(-1, g0, g1); // BUG(kvm-no-zap): no fill
        this.cache?.invalidate(g0, g1);
        mm.ev(mm.ctx.sched.current!, 'kvm zap', g0, g1, this.tracker.inProgress);
      },
    });
    mm.youngWitness = (start, end) => this.scanYoung(start * PAGE_SIZE, end * PAGE_SIZE, false);
    this.notifier = mm.subs.register({
      invalidateRangeStart: (sub, range) => this.start(sub, range),
      invalidateRangeEnd: this.end,
      clearFlushYoung: (_sub, start, end) => this.age(start, end, true),
      clearYoung: (_sub, start, end) => this.age(start, end, true),
      testYoung: (_sub, start, end) => this.age(start, end, false),
      release: () => this.flushAll(),
    });
  }

  /**
   * KVM_SET_USER_MEMORY_REGION changing only a memslot's flags (dirty logging off, say): a new
   * memslots array with the same layout is swapped in by kvm_swap_active_memslots(), which
   * first waits until no invalidation is counted (waitForInvalidations). The swap must run
   * with none counted and none begun, and the task sleeps until it has run.
   */
  async updateMemslots(t: Task): Promise<void> {
    const swapped = this.ops.waitForInvalidations(() => {
      if (this.ops.activeInvalidations !== 0 || this.oracle.running !== 0) {
        this.checker.fail(
          `kvm: memslots swapped with ${this.ops.activeInvalidations} invalidation(s) counted and ${this.oracle.running} begun`,
        );
      }
      this.kvmSlots = this.kvmSlots.map((s) => ({ ...s }));
      return ++this.memslotUpdates;
    });
    const n = await this.mm.ctx.sched.wait(t, swapped, 'kvm: memslot update waits');
    if (n !== this.memslotUpdates) {
      this.checker.fail(`kvm: waitForInvalidations resolved with ${n}, not what the swap returned`);
    }
    this.mm.ev(t, 'kvm memslots swapped', n);
  }

  /** Makes vCPU `t` fault as arm64's user_mem_abort() does (call before its first access). */
  faultsAsArm64(t: Task): void {
    this.arm64Vcpus.add(t);
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

  /** kvmNotifierOps' start; once it succeeded, every overlapping memslot must have been zapped. */
  private start(sub: unknown, range: KvmNotifierRange): boolean | Promise<boolean> {
    let r: boolean | Promise<boolean>;
    const calls = this.oracle.calls;
    const want = this.slotsIn(range);
    try {
      r = this.ops.invalidateRangeStart(sub, range);
      if (want === 0 && (r !== true || this.oracle.calls !== calls)) {
        // kvm_handle_hva_range(): no memslot overlaps, so neither the lock nor the tracker.
        this.checker.fail(
          `kvm: invalidate_range_start [${range.start}, ${range.end}) overlaps no memslot but touched the tracker or did not return true at once`,
        );
      }
    } catch (error) {
      this.zaps.set(range, 0); // a failed start (the range is started again later)
      throw error;
    }
    if (r === true) this.checkZapped(range, want);
    else if (r === false) {
      this.eagainStarts++;
      this.mm.audit.refuse(range);
    } else {
      return r.then(
        (ok) => (ok ? this.checkZapped(range, want) : false),
        (error: unknown) => {
          this.zaps.set(range, 0);
          throw error;
        },
      );
    }
    return r;
  }

  /**
   * kvmNotifierOps' end. The end cannot wait, so on the RT lock, held, its wait is detached: its
   * end() runs when the lock is handed over, and until then faults over the range retry.
   */
  private readonly end = (sub: unknown, range: KvmNotifierRange): void => {
    const rt = this.rtLock;
    if (rt === undefined) this.ops.invalidateRangeEnd(sub, range);
    else rt.detachedWaits(() => this.ops.invalidateRangeEnd(sub, range));
  };

  /** How many memslots overlap the host address range (pages of it partly covered count). */
  private slotsIn(range: KvmNotifierRange): number {
    let n = 0;
    this.byHva.forEachOverlap(
      Math.floor(range.start / PAGE_SIZE),
      Math.ceil(range.end / PAGE_SIZE) - 1,
      () => {
        n++;
      },
    );
    return n;
  }

  /** After a successful start: `want` memslots overlapped, each must have been zapped once. */
  private checkZapped(range: KvmNotifierRange, want: number): true {
    const got = this.zaps.get(range) ?? 0;
    if (got !== want) {
      this.checker.fail(
        `kvm: invalidate_range_start [${range.start}, ${range.end}) zapped ${got} memslot range(s), ${want} overlap it`,
      );
    }
    this.zaps.set(range, 0);
    return true;
  }

  /**
   * A zap must cover exactly one memslot's part of the range (hva_end rounded up to a page), and
   * come after that range's rangeAdd() in the running burst.
   */
  private checkZap(g0: number, g1: number, range: KvmNotifierRange): void {
    this.zaps.set(range, (this.zaps.get(range) ?? 0) + 1);
    const s = this.slots.find((m) => g0 >= m.gfn && g0 < m.gfn + m.npages);
    const base = (s?.hva ?? 0) * PAGE_SIZE;
    const want0 =
      s === undefined ? -1 : s.gfn + Math.floor((Math.max(range.start, base) - base) / PAGE_SIZE);
    const want1 =
      s === undefined
        ? -1
        : s.gfn + Math.ceil((Math.min(range.end, base + s.npages * PAGE_SIZE) - base) / PAGE_SIZE);
    if (g0 !== want0 || g1 !== want1 || !this.oracle.inHull(g0, g1)) {
      this.checker.fail(
        `kvm: zap of gfns [${g0}, ${g1}) for [${range.start}, ${range.end}); expected [${want0}, ${want1}) inside the merged range of a running invalidation`,
      );
    }
  }

  /**
   * At the end of a run: no invalidation counted, none in progress, no page held, and one
   * warning of the core per EAGAIN start (a subscriber with an end that failed its start).
   */
  finish(): void {
    const warned = this.mm.ctx.stats.warnings.filter((m) => m === KVM_EAGAIN_WARNING).length;
    if (warned !== this.eagainStarts) {
      this.checker.fail(
        `kvm: ${this.eagainStarts} start(s) returned EAGAIN, the core warned about ${warned}`,
      );
    }
    const held = [...this.vcpuFaults.values()].reduce((n, c) => n + c.pins, 0);
    if (this.ops.activeInvalidations !== 0 || this.oracle.running !== 0 || held !== 0) {
      this.checker.fail(
        `kvm: at the end ${this.ops.activeInvalidations} invalidation(s) counted, ${this.oracle.running} in progress, ${held} page(s) held`,
      );
    }
  }

  /** kvm_age_hva_range(): report (and optionally clear) shadow accessed bits. */
  private age(start: number, end: number, clear: boolean): boolean {
    const young = this.scanYoung(start, end, clear);
    if (young) this.mm.youngReported = true;
    return young;
  }

  /** Whether a present shadow PTE in the host range [start, end) is young; `clear` clears it. */
  private scanYoung(start: number, end: number, clear: boolean): boolean {
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
    this.cache?.release();
  }

  // ---- vCPU side ---------------------------------------------------------------------------

  /**
   * One guest access to `gfn`: through the shadow PTE, faulting it in as needed. Undefined when
   * the shadow PTE allowed it at once, else the promise of the faults and re-entries. With the
   * pfn cache on, an access to the cached frame may go through the cache instead (as KVM's
   * steal-time or Xen shared-info page does).
   */
  access(t: Task, gfn: number, write: boolean): Promise<void> | undefined {
    const cache = this.cache;
    if (cache !== undefined && gfn === cache.gfn && this.features.rng!.chance(0.5)) {
      return cache.use(t, write);
    }
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
   * (faultWithRetry with the vCPU's options, or arm64's loop), holding mm_users across it. A
   * kicked fault (FaultAbortedError) exits to userspace (-EINTR) and ends the access.
   */
  private async faultAndRetry(t: Task, gfn: number, write: boolean): Promise<void> {
    const stats = this.mm.ctx.stats;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0 && this.hit(t, gfn, write)) return;
      stats.faults.kvm++;
      this.mm.note(t, FAULT_BEGIN.kvm, gfn, write ? 1 : 0);
      let r = EFAULT;
      const hva = this.hvaOf(gfn);
      let c: VcpuFault | undefined;
      if (hva >= 0 && this.mm.get()) {
        c = this.vcpuFault(t);
        c.gfn = gfn;
        c.hva = hva;
        c.write = write;
        c.options.gfn = gfn;
        try {
          const retries = c.arm64 ? await this.arm64Fault(t, c) : await this.x86Fault(c);
          stats.retries.kvm += retries;
          r = 0;
        } catch (error) {
          r = this.errorOf(t, c, error);
        } finally {
          this.mm.put();
        }
      }
      this.mm.note(t, FAULT_END, r);
      if (c !== undefined && c.pins !== 0) {
        this.checker.fail(`kvm: ${t.name} still holds ${c.pins} page(s) after its fault`);
      }
      if (r < 0) {
        if (r === EPERM) stats.eperm++;
        else if (r !== EINTR && r !== ENOMEM) stats.efault++;
        return;
      }
      // The guest re-executes the access; the SPTE may already be gone again.
      await this.mm.ctx.sched.yield(t, 'vcpu re-enter guest');
    }
  }

  /** x86's fault: faultWithRetry; the installed page is released after it (as KVM does). */
  private async x86Fault(c: VcpuFault): Promise<number> {
    c.installed = undefined;
    c.backoffs = 0;
    const { page, retries } = await faultWithRetry(c.options);
    // It resolves with the page install() installed and the retries (backoffs) it took.
    if (page !== c.installed || retries !== c.backoffs) {
      this.checker.fail(
        `kvm: faultWithRetry resolved with ${page === c.installed ? 'the installed page' : 'a page it did not install'} and ${retries} retries, after ${c.backoffs} backoff(s)`,
      );
    }
    this.release(c);
    return retries;
  }

  /**
   * arm64's user_mem_abort(): snapshot, resolve, take mmu_lock, and install only if
   * `retry(seq)` is false (any invalidation in progress or ended since the snapshot: -EAGAIN,
   * the guest faults again); the page is released after unlocking either way.
   */
  private async arm64Fault(t: Task, c: VcpuFault): Promise<number> {
    const lock = c.options.lock as PreemptibleLock;
    for (let retries = 0; ; retries++) {
      const seq = c.tracker.snapshot();
      const ref = await this.resolve(t, c);
      if (c.kicker?.signal.aborted) {
        // A signal pending after the GUP: -EINTR before taking the lock (the page released).
        this.release(c);
        throw new FaultAbortedError(c.gfn, retries, c.kicker.signal.reason);
      }
      await lock.lock();
      let again: boolean;
      try {
        again = c.tracker.retry(seq);
        if (!again) this.install(t, c, ref);
      } finally {
        lock.unlock();
        this.release(c); // after unlocking, installed or not (or failed)
      }
      if (!again) return retries;
      await c.options.backoff!(retries + 1);
    }
  }

  /**
   * The -errno of a failed fault. A kick (FaultAbortedError) is -EINTR, and only when the vCPU
   * was signalled; the vCPU then gets a fresh signal state.
   */
  private errorOf(t: Task, c: VcpuFault, error: unknown): number {
    if (error instanceof InjectedCallbackError) return ENOMEM;
    if (!(error instanceof FaultAbortedError)) return errnoOf(error);
    if (c.kicker === undefined || !c.kicker.signal.aborted) {
      this.checker.fail(`kvm: ${t.name}'s fault was aborted, but no signal reached it`);
    }
    this.renewKicker(c);
    this.mm.ev(t, 'kvm kicked', c.gfn);
    return EINTR;
  }

  /** A new signal state for the vCPU (after a kick). */
  private renewKicker(c: VcpuFault): void {
    c.kicker = new AbortController();
    c.options.signal = c.kicker.signal;
  }

  /** With kicks on: maybe a signal reaches the vCPU now (a pending signal: -EINTR). */
  private maybeKick(c: VcpuFault): void {
    const chance = this.features.kick ?? 0;
    if (chance > 0 && this.features.rng!.chance(chance)) c.kicker!.abort();
  }

  /** kvm_release_page: drops the vCPU's hold on a resolved page. */
  private release(c: VcpuFault): void {
    if (c.pins === 0) this.checker.fail('kvm: a page released that the fault does not hold');
    c.pins--;
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
    const tracker = this.oracle.faultSide();
    const kicks = (this.features.kick ?? 0) > 0;
    const fault: VcpuFault = {
      gfn: 0,
      hva: 0,
      write: false,
      pins: 0,
      arm64: this.arm64Vcpus.has(t),
      kicker: undefined,
      tracker,
      installed: undefined,
      backoffs: 0,
      options: {
        tracker: this.bugs.skipRetry ? NO_RETRY : tracker,
        gfn: 0,
        lock: new PreemptibleLock(
          sched,
          t,
          this.lock,
          'kvm: take mmu_lock',
          () => {
            if (!fault.arm64) this.mustNotRetry(t, fault, 'took mmu_lock');
          },
          this.rtLock === undefined ? undefined : 'kvm: preempted holding mmu_lock',
        ),
        resolve: (signal) => {
          // The fault's own signal, or a never-aborted one when it has none.
          const own = fault.options.signal;
          if (
            own !== undefined ? signal !== own : !(signal instanceof AbortSignal) || signal.aborted
          ) {
            this.checker.fail(`kvm: ${t.name}'s resolve() was not given the fault's signal`);
          }
          // The signal is checked before each attempt, and nothing between that check and
          // resolve() can fire it (kicks come from this vCPU's resolve and backoff only).
          if (own?.aborted === true) {
            this.checker.fail(`kvm: ${t.name}'s resolve() called after its signal fired`);
          }
          return this.resolve(t, fault);
        },
        install: (ref) => {
          this.install(t, fault, ref);
          fault.installed = ref; // only once it is in the shadow page table
        },
        put: () => this.release(fault),
        backoff: kicks
          ? () => {
              fault.backoffs++;
              this.maybeKick(fault);
              return sched.spinYield(t, 'kvm fault retry');
            }
          : () => {
              fault.backoffs++;
              return sched.spinYield(t, 'kvm fault retry');
            },
      },
    };
    if (kicks) this.renewKicker(fault);
    c = fault;
    this.vcpuFaults.set(t, c);
    return c;
  }

  /**
   * faultWithRetry runs the lockless retryGfnUnsafe(seq, gfn) before it resolves and again
   * before it takes mmu_lock, and goes on only if it says no retry: checked at both points (x86).
   */
  private mustNotRetry(t: Task, c: VcpuFault, what: string): void {
    if (!this.bugs.skipRetry && c.tracker.expectsUnsafeRetry(c.gfn)) {
      this.checker.fail(
        `kvm: ${t.name} ${what} for gfn ${c.gfn} although retryGfnUnsafe() says retry`,
      );
    }
  }

  /** The fault's resolve(): GUP of the host page (errors thrown as Errno), held until released. */
  private async resolve(t: Task, c: VcpuFault): Promise<PageRef> {
    if (!c.arm64) this.mustNotRetry(t, c, 'resolved the page');
    const got = this.mm.gup(t, c.hva, c.write);
    const r = got instanceof Promise ? await got : got;
    if (typeof r === 'number') throw Errno.of(r);
    c.pins++;
    if (c.kicker !== undefined) this.maybeKick(c);
    // The vCPU can be preempted between hva_to_pfn() and taking mmu_lock.
    await this.mm.ctx.sched.yield(t, 'kvm: pfn resolved');
    return r;
  }

  /** The fault's install(), under mmu_lock after the retry check passed. */
  private install(t: Task, c: VcpuFault, ref: PageRef): void {
    // With --callback-errors: no memory for a shadow page (-ENOMEM), before anything changes.
    this.mm.injectCallbackError('kvm install');
    if (c.kicker?.signal.aborted) {
      this.checker.fail(`kvm: ${t.name} installed a page after a signal reached it`);
    }
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
    this.cache?.visit(0, Number.POSITIVE_INFINITY, fn);
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
    this.cache?.visit(start, end, fn);
  }

  private visit(s: Memslot, from: number, to: number, fn: TranslationVisitor): void {
    for (let h = from; h < to; h++) {
      const g = s.gfn + h - s.hva;
      const f = this.sptFrame[g]!;
      if (f >= 0) fn(h, f, this.sptGen[g]!, (this.sptFlags[g]! & SPTE_WRITE) !== 0);
    }
  }
}
