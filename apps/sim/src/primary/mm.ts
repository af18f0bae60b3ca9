import { DeferredList } from '@mmukit/deferred-list';
import {
  type MmuNotifierEvent,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
  NotifierCallbackError,
  ReleasedError,
  UnbalancedEndError,
} from '@mmukit/mmu-notifier';
import type { Checker } from '../checker.js';
import { perEvent } from '../events.js';
import { SimRwSem } from '../locks.js';
import { type AuditedRange, NotifierAudit } from '../notifier-audit.js';
import type { Prng } from '../prng.js';
import { type Scheduler, type Task, WaitQueue } from '../scheduler.js';
import type { Stats } from '../stats.js';
import { FAULT_BEGIN, FAULT_END, type Trace } from '../trace.js';
import { FrameAllocator } from './frames.js';
import {
  PageTable,
  type PageTableObserver,
  PTE_DIRTY,
  PTE_PROTNONE,
  PTE_WRITE,
  PTE_YOUNG,
  SwapSpace,
} from './page-table.js';
import { PROT_READ, PROT_WRITE, type Vma, VmaSet } from './vmas.js';

/** What the address space reports to its one subscriber (the checker): see observe(). */
export interface PrimaryObserver extends PageTableObserver {
  /** mmu_notifier_release() returned: no secondary may hold a translation any more. */
  released(): void;
}

/** Bytes per page: notifier ranges are byte addresses, page tables are indexed by page. */
export const PAGE_SIZE = 4096;
/** Error codes returned by fault paths (negative, as in the kernel). */
export const EPERM = -1;
export const EINTR = -4;
export const ENOMEM = -12;
export const EFAULT = -14;
export const EBUSY = -16;
/** faultChecks(): the page must be brought in (no errno has this value). */
const NEEDS_PAGE = 1;

/** A resolved page, as get_user_pages() or a page-table walk returns it. */
export interface PageRef {
  page: number;
  frame: number;
  gen: number;
  writable: boolean;
}

/** The shared services of a run. */
export interface SimContext {
  readonly sched: Scheduler;
  readonly trace: Trace;
  readonly stats: Stats;
}

/** The kernel's enum mmu_notifier_event value of each event (traced as a number). */
const EVENT_CODE = perEvent((_e, code) => code);
/** Trace labels per notifier event, built once (nothing is formatted per event). */
const INV_START = perEvent((e) => `inv-start ${e}`);
const INV_START_NB = perEvent((e) => `inv-start-nonblock ${e}`);
const INV_START_NB_EAGAIN = perEvent((e) => `inv-start-nonblock ${e} EAGAIN`);
const INV_END = perEvent((e) => `inv-end ${e}`);
const ACCESS_LABEL = {
  cpu: { read: 'cpu read', write: 'cpu write' },
  vhost: { read: 'vhost read', write: 'vhost write' },
} as const;

/**
 * The primary MMU: one address space ("mm") with VMAs, a page table, frames and swap, and the
 * MmuNotifierSubscriptions every secondary subscribes to.
 *
 * Locking model (kernel names): `mmapLock` is mmap_lock (munmap/mprotect/mremap/clear_refs
 * take it for write; faults, GUP, hmm_range_fault, madvise(DONTNEED), migration and, as a
 * simplification, reclaim take it for read). The page-table lock is implicit: code between two
 * awaits is atomic, so every PTE read-check-update below is done without an await in between
 * and re-validated after any await (pte_same()).
 *
 * Every change that removes or downgrades a translation (zap, swap-out, migration, protection
 * change, move) happens strictly between invalidateRangeStart(range) returning and
 * invalidateRangeEnd(range), with the range covering the page. Frames freed by a zap are
 * batched in a DeferredList (the mmu_gather): while any zapper is inside its window, frees are
 * queued and done when the last one leaves (before a lone zapper's invalidateRangeEnd; the
 * kernel's unmap_region frees after the end, so freeing earlier is the stricter test).
 */
/** The error a secondary's callback throws when the run injects a callback failure. */
export class InjectedCallbackError extends Error {
  constructor(readonly who: string) {
    super(`${who}: injected callback failure`);
  }
}

export class AddressSpace {
  readonly pt: PageTable;
  readonly frames = new FrameAllocator();
  readonly swap = new SwapSpace();
  readonly vmas: VmaSet;
  readonly subs: MmuNotifierSubscriptions;
  readonly mmapLock: SimRwSem;
  /** The mmu_gather: frames unmapped inside a window are freed when the last zapper flushes. */
  readonly gather: DeferredList<number>;
  /** mm_users held by secondaries (mmget_not_zero) on top of the process itself. */
  users = 0;
  /** Set at OOM kill or exit: mmget_not_zero() fails from now on, the process threads stop. */
  dying = false;
  /**
   * MMF_UNSTABLE: set by the OOM reaper before it zaps; a fault in a reaped address space fails
   * (check_stable_address_space() -> VM_FAULT_SIGBUS) instead of mapping a fresh zero page.
   */
  unstable = false;
  /** Set once exit_mmap() ran. */
  dead = false;
  private exitWaiter: Task | null = null;
  /** Checks every access made through the primary page table (the CPU, copy_to/from_user). */
  checker!: Checker;
  /** Checks the notifier core's trace events (see NotifierAudit). */
  readonly audit: NotifierAudit;
  /** When set, secondaries' invalidation callbacks fail with this chance (see injectCallbackError). */
  private injector: { chance: number; rng: Prng } | undefined;
  private releaseObserver: () => void = () => {};
  /** Ranges whose invalidation ended, for reuse (see newRange). */
  private readonly freeRanges: (MmuNotifierRange & AuditedRange)[] = [];
  /** Tasks waiting for the notifier's busy period to end (see waitSeqChange). */
  private readonly seqWaiters: WaitQueue;

  constructor(
    readonly ctx: SimContext,
    readonly pages: number,
  ) {
    this.subs = new MmuNotifierSubscriptions({
      onWarning: (message) => {
        ctx.stats.warnings.push(message);
        this.audit.warned(message);
      },
    });
    // The core's own account of what it does, checked as it happens.
    this.audit = new NotifierAudit(this.subs, (message) => this.checker.fail(message));
    this.subs.setTracer(this.audit.tracer);
    this.tracing = ctx.trace.on;
    this.pt = new PageTable(pages);
    this.vmas = new VmaSet(pages);
    this.mmapLock = new SimRwSem(ctx.sched, 'mmap_lock');
    this.seqWaiters = new WaitQueue(ctx.sched);
    this.gather = new DeferredList<number>((f) => this.frames.free(f));
  }

  /**
   * The one subscriber to what the primary does to its page tables (the checker): every PTE
   * change (see PageTableObserver) and the end of mmu_notifier_release().
   */
  observe(observer: PrimaryObserver): void {
    this.pt.observer = observer;
    this.releaseObserver = () => observer.released();
  }

  /** Set by the secondaries' aging callbacks when they report a young page (see reclaim). */
  youngReported = false;
  /** Whether a secondary holds a young translation of a page in [start, end) (read only). */
  youngWitness: ((start: number, end: number) => boolean) | undefined;

  /**
   * mmu_notifier_release() (every subscriber drops everything), then tells the observer. After
   * it, no subscription can be made: an insert or a registration throws ReleasedError.
   */
  async release(): Promise<void> {
    await this.subs.release();
    this.wakeSeqWaiters();
    this.releaseObserver();
    for (const subscribe of [
      () => this.subs.insertInterval(0, PAGE_SIZE, { invalidate: () => true }),
      () => this.subs.register({}),
    ]) {
      try {
        subscribe();
      } catch (error) {
        if (error instanceof ReleasedError) continue;
        throw error;
      }
      this.checker.fail('a subscription was accepted after mmu_notifier_release()');
    }
  }

  /**
   * Parks `t` at `label` until `subs.invalidateSeq` is no longer `seq` (the odd value of a busy
   * period of the notifier): the `wait_event(subscriptions->wq, ...)` of mmu_interval_read_begin()
   * and of a deferred mmu_interval_notifier_remove(). The package's own promise for that wait
   * settles on later microtasks; here the task that ends the busy period wakes the waiters in the
   * same step (invEnd, a non-blocking start that fails, release), so when they run again does not
   * depend on when the package's promises settle. No wait if the period already ended.
   */
  async waitSeqChange(t: Task, seq: number, label: string): Promise<void> {
    while (this.subs.invalidateSeq === seq) await this.seqWaiters.wait(t, label);
  }

  /** Wakes the waiters of waitSeqChange() once no busy period is open any more. */
  private wakeSeqWaiters(): void {
    if (this.seqWaiters.size !== 0 && !this.subs.isInvalidating) this.seqWaiters.wakeAll();
  }

  /** False when tracing is off: callers may skip computing an event's arguments. */
  readonly tracing: boolean;

  /** Records a trace event for task `t` (nothing when tracing is off). */
  ev(t: Task, kind: string, a = 0, b = 0, c = 0): void {
    if (this.tracing) this.ctx.trace.add(this.ctx.sched.steps, t.name, kind, a, b, c);
  }

  /**
   * A note for the trace's listener (a fault's begin or end, see FAULT_BEGIN): not part of the
   * trace, its hash or its log.
   */
  note(t: Task, kind: string, a = 0, b = 0, c = 0): void {
    if (this.tracing) this.ctx.trace.note(this.ctx.sched.steps, t.name, kind, a, b, c);
  }

  /** mmget_not_zero(): a secondary pins the address space for the duration of an operation. */
  get(): boolean {
    if (this.dying) return false;
    this.users++;
    return true;
  }

  /** mmput(). */
  put(): void {
    if (this.users <= 0) throw new Error('mmput without mmget');
    this.users--;
    if (this.users === 0 && this.exitWaiter !== null) {
      const w = this.exitWaiter;
      this.exitWaiter = null;
      this.ctx.sched.unpark(w);
    }
  }

  /** Waits until no secondary holds mm_users (the last mmput runs exit_mmap). */
  async waitUsers(t: Task): Promise<void> {
    if (this.users > 0) {
      this.exitWaiter = t;
      await this.ctx.sched.park(t, 'exit:mm_users');
    }
  }

  /**
   * Frees a frame through the mmu_gather: queued while a zapper is inside (the gather's
   * `submit()` says true), freed at once otherwise (false); checked both ways.
   */
  freeFrame(f: number): void {
    const inside = this.gather.holders > 0;
    const queued = this.gather.submit(f);
    if (queued !== inside || (this.frames.used[f] === 0) === queued) {
      this.checker.fail(
        `mmu_gather: frame ${f} ${queued ? 'queued' : 'not queued'} and ${this.frames.used[f] === 0 ? 'freed' : 'not freed'} with ${this.gather.holders} zapper(s) inside`,
      );
    }
  }

  // ---- notifier brackets -------------------------------------------------------------------

  /**
   * Makes the secondaries' invalidation callbacks fail (throw InjectedCallbackError) with
   * `chance` each, drawn from `rng`, while the process is alive (never in exit or the OOM reaper).
   */
  injectCallbackErrors(chance: number, rng: Prng): void {
    this.injector = chance > 0 ? { chance, rng } : undefined;
  }

  /** Called by a secondary's callback before it does anything: throws if a failure is drawn. */
  injectCallbackError(who: string): void {
    const inj = this.injector;
    if (inj !== undefined && !this.dying && inj.rng.chance(inj.chance)) {
      throw new InjectedCallbackError(who);
    }
  }

  /**
   * mmu_notifier_invalidate_range_start() over pages [start, end): may sleep. A start whose
   * callbacks failed (only injected failures are expected) is checked to be undone and tried
   * again: a device that failed once is asked again, and the primary changes nothing until a
   * start succeeds.
   */
  async invStart(
    t: Task,
    start: number,
    end: number,
    event: MmuNotifierEvent,
    owner?: unknown,
  ): Promise<MmuNotifierRange> {
    const range = this.newRange(start, end, event, true, owner);
    this.ctx.stats.invalidations[event]++;
    if (this.tracing) this.ev(t, INV_START[event], start, end, EVENT_CODE[event]);
    for (;;) {
      try {
        await this.subs.invalidateRangeStart(range);
        this.audit.saw('start', range, 'invalidateRangeStart');
        break;
      } catch (error) {
        this.startFailed(t, range, error);
      }
    }
    this.pt.windows++;
    return range;
  }

  /**
   * A blockable start rejected: only with the injected failures, and undone (its range has no
   * start left to end: invalidateRangeEnd refuses it). Tasks waiting for the busy period it may
   * have ended are woken.
   */
  private startFailed(t: Task, range: MmuNotifierRange, error: unknown): void {
    if (
      !(error instanceof NotifierCallbackError) ||
      error.errors.length === 0 ||
      !error.errors.every((e) => e instanceof InjectedCallbackError)
    ) {
      throw error;
    }
    this.audit.saw('start', range, 'a failed invalidateRangeStart');
    this.audit.saw('start-failed', range, 'a failed invalidateRangeStart');
    this.ctx.stats.callbackErrors += error.errors.length;
    if (this.tracing)
      this.ev(
        t,
        'invalidate start failed',
        range.start / PAGE_SIZE,
        range.end / PAGE_SIZE,
        error.errors.length,
      );
    this.wakeSeqWaiters();
    try {
      this.subs.invalidateRangeEnd(range);
    } catch (endError) {
      if (endError instanceof UnbalancedEndError) return;
      throw endError;
    }
    this.checker.fail(
      `${t.name}: invalidateRangeEnd() accepted the range of a start that failed: the start was not undone`,
    );
  }

  /**
   * mmu_notifier_invalidate_range_start_nonblock(): undefined means -EAGAIN (some subscriber
   * would have slept): the caller must leave the range alone and must not call invEnd().
   */
  tryInvStart(
    t: Task,
    start: number,
    end: number,
    event: MmuNotifierEvent,
  ): MmuNotifierRange | undefined {
    const range = this.newRange(start, end, event, false, undefined);
    this.ctx.stats.invalidations[event]++;
    this.ctx.stats.nonblockStarts++;
    const ok = this.subs.invalidateRangeStartNonblock(range);
    this.audit.saw('start', range, 'invalidateRangeStartNonblock');
    if (!ok) {
      this.audit.saw('start-failed', range, 'invalidateRangeStartNonblock (EAGAIN)');
      this.wakeSeqWaiters(); // the failed start may have ended the busy period it opened
      this.ctx.stats.eagain++;
      if (this.tracing) this.ev(t, INV_START_NB_EAGAIN[event], start, end, EVENT_CODE[event]);
      return undefined;
    }
    if (this.tracing) this.ev(t, INV_START_NB[event], start, end, EVENT_CODE[event]);
    this.pt.windows++;
    return range;
  }

  /**
   * mmu_notifier_invalidate_range_end(). The page table first reports what changed in the
   * window to its observer (the checker), while the range is still invalidated.
   */
  invEnd(t: Task, range: MmuNotifierRange): void {
    this.pt.flush();
    this.pt.windows--;
    const wakes = this.audit.wakes;
    const wasOdd = this.subs.invalidateSeq % 2 !== 0;
    this.subs.invalidateRangeEnd(range);
    this.audit.saw('end', range, 'invalidateRangeEnd');
    if (wasOdd && this.subs.invalidateSeq % 2 === 0 && this.audit.wakes !== wakes + 1) {
      this.checker.fail('notifier trace: the busy period ended without a wake event');
    }
    this.wakeSeqWaiters();
    if (this.tracing) {
      this.ev(
        t,
        INV_END[range.event],
        range.start / PAGE_SIZE,
        range.end / PAGE_SIZE,
        EVENT_CODE[range.event],
      );
    }
    this.freeRanges.push(range as MmuNotifierRange & AuditedRange); // ended: nobody holds it any more
  }

  /**
   * A range object for a start, reused from an ended one when there is one: the notifier core
   * and KVM's notifier keep per-range bookkeeping on (or keyed by) the object, which a fresh
   * object pays for at its first start (property definitions, a WeakMap entry) and an ended one
   * already has, emptied. Every range has an `owner` field, undefined unless given, and the
   * audit's bits (AuditedRange), which it keeps from one use to the next as the audit's map did.
   */
  private newRange(
    start: number,
    end: number,
    event: MmuNotifierEvent,
    blockable: boolean,
    owner: unknown,
  ): MmuNotifierRange {
    const range = this.freeRanges.pop();
    if (range === undefined) {
      const fresh: MmuNotifierRange & AuditedRange = {
        start: start * PAGE_SIZE,
        end: end * PAGE_SIZE,
        event,
        blockable,
        owner,
        auditBits: 0,
      };
      return fresh;
    }
    range.start = start * PAGE_SIZE;
    range.end = end * PAGE_SIZE;
    range.event = event;
    range.blockable = blockable;
    range.owner = owner;
    return range;
  }

  // ---- page-table primitives (call only inside an invalidation window) ---------------------

  /** Unmaps one page (zap_pte_range for one PTE): frame to the gather, swap slot freed, data gone. */
  zapPage(p: number): void {
    const f = this.pt.frame[p]!;
    if (f >= 0) this.freeFrame(f);
    const s = this.pt.swap[p]!;
    if (s >= 0) this.swap.free(s);
    this.pt.unmap(p);
  }

  // ---- faults ------------------------------------------------------------------------------
  //
  // The fault and access paths return synchronously when they do not sleep (a value, or
  // undefined for "done"), and a promise only from their first scheduling point on: an access
  // that finds its page costs no promise and no microtask.

  /**
   * handle_mm_fault(): makes `p` accessible (and writable if `write`), allocating a zeroed frame
   * or swapping in. Caller holds mmapLock for read. Returns 0, EFAULT (no VMA / PROT_NONE) or
   * EPERM (write to a read-only VMA), at once when no page must be brought in (an upgrade or an
   * error), else a promise of it: bringing a page in sleeps (allocation, swap I/O).
   */
  handleFault(t: Task, p: number, write: boolean): number | Promise<number> {
    const r = this.faultChecks(p, write);
    return r === NEEDS_PAGE ? this.faultIn(t, p, write) : r;
  }

  /**
   * The checks at the top of handle_mm_fault()'s loop: EFAULT or EPERM, or 0 once the page is
   * present (a write upgrade is done here: read-only -> writable, as do_wp_page reusing an
   * exclusive anon page; no translation is taken away, so no notifier call), or NEEDS_PAGE.
   */
  private faultChecks(p: number, write: boolean): number {
    if (this.unstable) return EFAULT;
    const vma = this.vmas.find(p);
    if (vma === undefined || (vma.prot & PROT_READ) === 0) return EFAULT;
    if (write && (vma.prot & PROT_WRITE) === 0) return EPERM;
    if (this.pt.frame[p]! < 0) return NEEDS_PAGE;
    this.pt.touch(p, write, true);
    return 0;
  }

  /** handle_mm_fault() once faultChecks() said NEEDS_PAGE: bring the page in, check again. */
  private async faultIn(t: Task, p: number, write: boolean): Promise<number> {
    for (;;) {
      const vma = this.vmas.find(p)!; // faultChecks just found it
      const slot = this.pt.swap[p]!;
      await this.ctx.sched.yield(t, slot >= 0 ? 'swap-in I/O' : 'page alloc');
      const r = this.faultAfterSleep(t, p, write, vma, slot);
      if (r !== NEEDS_PAGE) return r;
    }
  }

  /**
   * The part of faultIn's loop after its scheduling point (the allocation or the swap-in I/O,
   * for `vma` and swap slot `slot` as they were before it): maps the page unless something raced
   * (pte_same() failed, or the VMA changed), then the checks decide again (NEEDS_PAGE: another
   * pass). The callers that must go on after the fault run this loop themselves (one async
   * function less per fault).
   */
  private faultAfterSleep(t: Task, p: number, write: boolean, vma: Vma, slot: number): number {
    const pt = this.pt;
    if (pt.frame[p]! < 0 && pt.swap[p] === slot && this.vmas.find(p) === vma) {
      const nf = this.frames.alloc();
      if (slot >= 0) {
        this.frames.data[nf] = this.swap.load(slot);
        this.swap.free(slot);
        this.ctx.stats.swapIns++;
        this.ev(t, 'swap-in', p, nf);
      }
      pt.map(
        p,
        nf,
        ((vma.prot & PROT_WRITE) !== 0 ? PTE_WRITE : 0) | PTE_YOUNG | (write ? PTE_DIRTY : 0),
      );
    }
    return this.faultChecks(p, write);
  }

  /** The current translation of `p` as a PageRef, or undefined if not accessible. */
  lookup(p: number): PageRef | undefined {
    const f = this.pt.frame[p]!;
    if (f < 0 || (this.pt.flags[p]! & PTE_PROTNONE) !== 0) return undefined;
    return {
      page: p,
      frame: f,
      gen: this.frames.gen[f]!,
      writable: (this.pt.flags[p]! & PTE_WRITE) !== 0,
    };
  }

  /**
   * get_user_pages() for one page: takes mmapLock for read, faults the page in and returns it.
   * Caller holds mm_users (get()). Returns a negative errno on failure; at once when neither the
   * lock nor the fault sleeps.
   */
  gup(t: Task, p: number, write: boolean): PageRef | number | Promise<PageRef | number> {
    const w = this.readLock(t);
    return w === undefined
      ? this.gupLocked(t, p, write)
      : w.then(() => this.gupLocked(t, p, write));
  }

  private gupLocked(
    t: Task,
    p: number,
    write: boolean,
  ): PageRef | number | Promise<PageRef | number> {
    let r: number;
    try {
      r = this.faultChecks(p, write);
    } catch (error) {
      this.mmapLock.readUnlock();
      throw error;
    }
    if (r === NEEDS_PAGE) return this.gupFaultIn(t, p, write);
    const ref = r < 0 ? r : this.lookup(p)!;
    this.mmapLock.readUnlock();
    return ref;
  }

  /** gup() whose fault must bring the page in (faultIn's loop, then the page), mmapLock held. */
  private async gupFaultIn(t: Task, p: number, write: boolean): Promise<PageRef | number> {
    try {
      const r = await this.bringIn(t, p, write);
      return r < 0 ? r : this.lookup(p)!;
    } finally {
      this.mmapLock.readUnlock();
    }
  }

  /** Takes mmapLock for read: undefined if taken at once, else the wait (counted). */
  readLock(t: Task): Promise<void> | undefined {
    const w = this.mmapLock.read(t);
    if (w !== undefined) this.ctx.stats.waits.mmapLock++;
    return w;
  }

  /** Takes mmapLock for write: undefined if taken at once, else the wait (counted). */
  writeLock(t: Task): Promise<void> | undefined {
    const w = this.mmapLock.write(t);
    if (w !== undefined) this.ctx.stats.waits.mmapLock++;
    return w;
  }

  /**
   * An access through the primary page table: by the process itself (`who` = 'cpu') or a
   * copy_to/from_user() on its behalf (vhost's slow path). Faults if needed. Undefined when done
   * without sleeping, else the promise of the rest.
   */
  cpuAccess(
    t: Task,
    p: number,
    write: boolean,
    who: 'cpu' | 'vhost' = 'cpu',
  ): Promise<void> | undefined {
    const w = this.readLock(t);
    return w === undefined
      ? this.cpuAccessLocked(t, p, write, who)
      : w.then(() => this.cpuAccessLocked(t, p, write, who));
  }

  private cpuAccessLocked(
    t: Task,
    p: number,
    write: boolean,
    who: 'cpu' | 'vhost',
  ): Promise<void> | undefined {
    let unlock = true;
    try {
      const pt = this.pt;
      if (pt.accessible(p) && (!write || pt.writable(p))) {
        pt.touch(p, write, false);
        this.accessed(t, p, write, who);
        return undefined;
      }
      // Constant keys (a keyed access with two names would be a megamorphic lookup).
      const faults = this.ctx.stats.faults;
      if (who === 'cpu') faults.cpu++;
      else faults.vhost++;
      if (this.tracing) this.note(t, FAULT_BEGIN[who], p, write ? 1 : 0);
      const r = this.faultChecks(p, write);
      if (r !== NEEDS_PAGE) {
        this.faulted(t, p, write, who, r);
        return undefined;
      }
      unlock = false;
      return this.cpuFaultIn(t, p, write, who);
    } finally {
      if (unlock) this.mmapLock.readUnlock();
    }
  }

  /**
   * faultIn's loop for a page that must be brought in: sleep (allocation or swap-in I/O, a
   * scheduling point), then re-validate and map, until it is mapped or fails. mmapLock held.
   */
  private async bringIn(t: Task, p: number, write: boolean): Promise<number> {
    let r: number;
    do {
      const vma = this.vmas.find(p)!;
      const slot = this.pt.swap[p]!;
      await this.ctx.sched.yield(t, slot >= 0 ? 'swap-in I/O' : 'page alloc');
      r = this.faultAfterSleep(t, p, write, vma, slot);
    } while (r === NEEDS_PAGE);
    return r;
  }

  /** An access whose fault must bring the page in (faultIn's loop, then the access). */
  private async cpuFaultIn(
    t: Task,
    p: number,
    write: boolean,
    who: 'cpu' | 'vhost',
  ): Promise<void> {
    try {
      this.faulted(t, p, write, who, await this.bringIn(t, p, write));
    } finally {
      this.mmapLock.readUnlock();
    }
  }

  /** The end of an access's fault (`r`: 0 or -errno): the access, or the error counted. */
  private faulted(t: Task, p: number, write: boolean, who: 'cpu' | 'vhost', r: number): void {
    this.note(t, FAULT_END, r);
    if (r < 0) {
      if (r === EPERM) this.ctx.stats.eperm++;
      else this.ctx.stats.efault++;
      return;
    }
    this.accessed(t, p, write, who);
  }

  /** The access itself, to the present page `p` (checked). */
  private accessed(t: Task, p: number, write: boolean, who: 'cpu' | 'vhost'): void {
    const f = this.pt.frame[p]!;
    const g = this.frames.gen[f]!;
    const accesses = this.ctx.stats.accesses;
    if (who === 'cpu') accesses.cpu++;
    else accesses.vhost++;
    const v = write ? this.checker.write(who, p, f, g) : this.checker.read(who, p, f, g);
    if (this.tracing) {
      const label = who === 'cpu' ? ACCESS_LABEL.cpu : ACCESS_LABEL.vhost;
      this.ev(t, write ? label.write : label.read, p, f, v);
    }
  }
}
