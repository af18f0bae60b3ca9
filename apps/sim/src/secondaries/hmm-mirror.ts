import {
  FaultDeadlineError,
  type FaultSubscription,
  faultWithRetry,
  type SubscriptionFaultOptions,
} from '@mmukit/fault-retry';
import {
  CallbackContextError,
  type IntervalNotifier,
  type IntervalNotifierOps,
  invalidateOps,
  type MmuNotifierRange,
  type NotifierLock,
  SetSeqError,
} from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimMutex } from '../locks.js';
import { type AddressSpace, EBUSY, EFAULT, PAGE_SIZE, type PageRef } from '../primary/mm.js';
import { PROT_READ } from '../primary/vmas.js';
import type { Task } from '../scheduler.js';
import { FAULT_BEGIN, FAULT_END } from '../trace.js';
import {
  awaitRemoval,
  checkedRetry,
  Errno,
  errnoOf,
  PreemptibleLock,
  readBegin,
  startRemoval,
  teardownOnTask,
  withoutStacks,
} from './glue.js';

/** Deliberate bugs for the checker's negative controls. */
export interface HmmBugs {
  /** Program the device page table without mmu_interval_read_retry(). */
  skipReadRetry?: boolean;
  /** invalidate() zaps but never calls mmu_interval_set_seq(). */
  skipSetSeq?: boolean;
  /**
   * The fault programs the device page table after dropping the device lock: readRetry passes
   * under the lock (faultWithRetry's install only keeps the walked pages), then the driver
   * unlocks and allocates its page-table pages, which may sleep (a scheduling point), and only
   * then programs. The lock no longer covers readRetry + program, so an invalidation can set the
   * seq and zap in between, and the fault programs the pages it walked before: stale
   * translations (caught at the install).
   */
  installUnlocked?: boolean;
  /**
   * close() by hand, zapping first: lock, zap the buffer, unlock, then wait for the ioctls in
   * flight (a scheduling point), and only then stop the faults (mark the buffer closing) and
   * remove the subscription. A fault in flight programs pages after the zap, and they outlive
   * the subscription: nothing invalidates them at the next change of the primary.
   */
  teardownZapFirst?: boolean;
  /**
   * close() by hand, removing first: remove the subscription and await the removal, then zap
   * under the lock. While the removal is awaited the subscription is gone and the buffer's
   * translations are not: a change of the primary there reaches nobody and leaves them stale.
   */
  teardownRemoveFirst?: boolean;
}

/** HMM_RANGE_DEFAULT_TIMEOUT, in scheduling steps instead of 1000 ms. */
export const HMM_TIMEOUT_STEPS = 4000;

/** Snapshot entry (HMM_DMIRROR_PROT_*): no VMA or PROT_NONE. */
export const SNAP_ERROR = 0;
/** Snapshot entry: mapped by the VMA but not present in the page table. */
export const SNAP_NONE = 1;
/** Snapshot entry: present, read-only. */
export const SNAP_READ = 2;
/** Snapshot entry: present, writable. */
export const SNAP_WRITE = 3;

/** One mirrored buffer: an interval subscription over [start, end) (pages). */
export interface MirrorBuffer {
  start: number;
  end: number;
  sub: IntervalNotifier;
  closing: boolean;
  /** Accesses in flight (the file reference an ioctl holds); close() waits for them. */
  users: number;
  closer: Task | null;
}

const DPT_WRITE = 1;

/** Where a copy stopped (HmmMirror.copyRun) or goes on from (copyRest). */
const COPY_DONE = 0;
const COPY_MISSING = 1;
const COPY_YIELD = 2;
const COPY_LOCKED = 3;

/** Trace and wait labels, built once per device. */
const labels = (name: string) => ({
  close: `${name} close`,
  closeWait: `${name} close: wait for ioctls`,
  closeRemove: `${name} close: mmu_interval_notifier_remove`,
  closeRemoved: `${name} close: remove`,
  closeZapped: `${name} close: zap`,
  programAlloc: `${name} program: allocate table pages`,
  trylockFailed: `${name} invalidate: trylock failed`,
  takeLock: `${name}: take the device mutex`,
  invalidate: `${name} invalidate`,
  read: `${name} read`,
  write: `${name} write`,
  readBegin: `${name}: mmu_interval_read_begin`,
  readRetry: `${name} read_retry`,
  program: `${name} program`,
  snapshot: `${name} snapshot`,
  copy: `${name} copy`,
  snapshotWalk: `${name} snapshot walk`,
});

/** The fault watchdog of the device (wall clock), far beyond any run's fault. */
const WATCHDOG_MS = 60_000;

/**
 * An HMM mirror device in the style of lib/test_hmm.c's dmirror: a device page table (one
 * entry per virtual page: frame, generation, write tag), one interval subscription per mirrored
 * buffer, and the documented driver pattern, from the packages' helpers:
 *
 *   fault:      faultWithRetry on the buffer's subscription: seq = readBegin(sub);
 *               hmm_range_fault() (walk the primary page table under the mmap read lock, fault
 *               in what is missing; -EBUSY as soon as checkRetry(seq)); lock(dev);
 *               if readRetry(seq) { unlock; again } program; unlock
 *               (bounded by HMM_TIMEOUT_STEPS -> -EBUSY, like HMM_RANGE_DEFAULT_TIMEOUT)
 *   invalidate: invalidateOps: blockable ? lock(dev) : trylock(dev) or return false;
 *               setSeq(curSeq); zap; unlock
 *   close:      teardownInterval: remove + zap in one hold of lock(dev), then wait for the removal
 *   read/write: under lock(dev), copy through the device page table page by page; on the first
 *               missing (or read-only, for writes) entry: unlock, fault from there, go on.
 *
 * The device lock is the "user lock" of the collision-retry: it serializes readRetry+program
 * against setSeq+zap, so a fault that passed readRetry under it cannot install a page an
 * invalidation already zapped.
 */
export class HmmMirror implements SecondaryView {
  /** Invalidate callbacks received (every 16th probes the callback context). */
  private callbacks = 0;
  /** Accesses so far (every 16th probes setSeq from outside any callback). */
  private accesses = 0;
  /**
   * The curSeq each buffer's subscription was last given by an invalidate callback. A plain map
   * (set at every callback; a weak map costs about twice as much): it holds at most the buffers a
   * run opens, as `removed` does.
   */
  private readonly lastCurSeq = new Map<IntervalNotifier, number>();
  /** The device's identity as a migrate_vma owner (dmirror->mdevice). */
  private readonly owner = Symbol('hmm device');
  /** The device mutex (a SimMutex), as the packages' helpers take it. */
  readonly dev: NotifierLock;
  readonly buffers: MirrorBuffer[] = [];
  private readonly frame: Int32Array;
  private readonly gen: Float64Array;
  private readonly flags: Uint8Array;
  private readonly present = new Set<number>();
  /** Per device task: its collision-retry state (see RangeRetry). */
  private readonly retries = new Map<Task, RangeRetry>();
  /** Where the last copyRun() stopped (read at once by its caller). */
  private copyAt = 0;
  private readonly removed = new Set<IntervalNotifier>();
  private readonly label: ReturnType<typeof labels>;
  /** dmirror_interval_invalidate(), for the buffers' subscriptions. */
  private readonly ops: IntervalNotifierOps;
  /** dmirror_snapshot_invalidate(): lock (or trylock), setSeq, unlock; nothing to zap. */
  private readonly snapshotOps: IntervalNotifierOps;

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    readonly name = 'hmm',
    private readonly bugs: HmmBugs = {},
  ) {
    const { sched, stats } = mm.ctx;
    const mutex = new SimMutex(sched, `${name}.mutex`);
    this.dev = mutex.notifierLock(() => stats.waits.lock++);
    // EAGAIN only when waiting was needed: a non-blockable range finding the mutex taken.
    const refused = (range: MmuNotifierRange, what: string) => {
      if (range.blockable || mutex.holder === null) {
        this.checker.fail(
          `${what}: invalidate returned false (EAGAIN) for a ${range.blockable ? 'blockable range' : 'range while the device lock was free'}`,
        );
      }
      mm.audit.refuse(range);
    };
    this.label = labels(name);
    this.frame = new Int32Array(mm.pages).fill(-1);
    this.gen = new Float64Array(mm.pages);
    this.flags = new Uint8Array(mm.pages);
    const ops = invalidateOps({
      lock: this.dev,
      // dmirror's pgmap owner: a migrate_vma of its own would be skipped (the device moves its
      // own pages); the sim's migrations belong to no device, so every one reaches the zap.
      owner: this.owner,
      zap: (first, last, range, sub) => {
        mm.injectCallbackError(name); // a device error: nothing zapped, the start fails
        // setSeq must leave a subscription being removed retired (its readers all retry).
        if (sub.state === 'pending-remove' && sub.seq === mm.subs.invalidateSeq) {
          this.checker.fail(`${name}: setSeq gave a subscription being removed the current seq`);
        }
        // The part of the range the subscription covers, no more, no less.
        if (
          first !== Math.max(sub.start, range.start) ||
          last !== Math.min(sub.last, range.end - 1)
        ) {
          this.checker.fail(
            `${name}: zap of [${first}, ${last}] for the subscription [${sub.start}, ${sub.last}] and the range [${range.start}, ${range.end})`,
          );
        }
        const [s, e] = [first / PAGE_SIZE, (last + 1) / PAGE_SIZE];
        this.zap(s, e);
        mm.ev(sched.current!, this.label.invalidate, s, e, sub.seq);
      },
    });
    this.ops = {
      invalidate: (sub, range, curSeq) => {
        mm.audit.called(sub, range, name);
        this.lastCurSeq.set(sub, curSeq);
        if ((this.callbacks++ & 15) === 0) this.probeCallbackContext(sub);
        if (this.removed.has(sub))
          this.checker.fail(`${name}: invalidate called after remove() returned`);
        // BUG(hmm-no-set-seq): the callback's setSeq(curSeq) does nothing.
        const ok = ops.invalidate(bugs.skipSetSeq ? noSetSeq(sub) : sub, range, curSeq);
        const [s, e] = [range.start / PAGE_SIZE, range.end / PAGE_SIZE];
        if (ok === false) {
          refused(range, name);
          mm.ev(sched.current!, this.label.trylockFailed, s, e); // EAGAIN
        }
        return ok;
      },
    };
    const snapshotOps = invalidateOps({ lock: this.dev, zap: () => {} });
    this.snapshotOps = {
      invalidate: (sub, range, curSeq) => {
        mm.audit.called(sub, range, `${name} snapshot`);
        const ok = snapshotOps.invalidate(sub, range, curSeq);
        if (ok === false) refused(range, `${name} snapshot`);
        return ok;
      },
    };
  }

  /**
   * From inside its own invalidate callback a subscription's readBegin() must be refused with
   * CallbackContextError (it would wait for this very invalidation): checked on every 16th call.
   */
  private probeCallbackContext(sub: IntervalNotifier): void {
    const wrong = (what: string) => {
      try {
        this.checker.fail(`${this.name}: readBegin() from inside its invalidate ${what}`);
      } catch {
        // recorded; nothing to unwind in a promise handler
      }
    };
    withoutStacks(() => sub.readBegin()).then(
      () => wrong('was not refused'),
      (error: unknown) => {
        if (!(error instanceof CallbackContextError)) wrong(`failed with ${String(error)}`);
      },
    );
  }

  /**
   * Outside every invalidate callback, setSeq() must be refused with SetSeqError and change
   * nothing, even given the curSeq of the subscription's last callback. Checked on every 16th
   * access, when no invalidation is running at all (so none of this subscription's callbacks can
   * still be settling).
   */
  private probeSetSeq(sub: IntervalNotifier): void {
    const curSeq = this.lastCurSeq.get(sub);
    if (curSeq === undefined || this.mm.subs.activeInvalidateRanges !== 0) return;
    const seq = sub.seq;
    try {
      withoutStacks(() => sub.setSeq(curSeq));
    } catch (error) {
      if (error instanceof SetSeqError && sub.seq === seq) return;
      this.checker.fail(`${this.name}: setSeq() outside any callback failed with ${String(error)}`);
    }
    this.checker.fail(`${this.name}: setSeq() outside any callback was accepted`);
  }

  /** Mirrors [start, end): mmu_interval_notifier_insert(). */
  open(start: number, end: number): MirrorBuffer {
    const sub = this.mm.subs.insertInterval(start * PAGE_SIZE, (end - start) * PAGE_SIZE, this.ops);
    const buf: MirrorBuffer = { start, end, sub, closing: false, users: 0, closer: null };
    this.buffers.push(buf);
    this.mm.ctx.stats.intervalInserts++;
    return buf;
  }

  /**
   * Stops mirroring a buffer: no fault may program it any more; teardownInterval calls
   * mmu_interval_notifier_remove() and zaps the whole buffer in one hold of the device lock, then
   * waits for the removal (which may wait for a running invalidation). After that its
   * invalidate must never be called again (checked).
   */
  async close(t: Task, buf: MirrorBuffer): Promise<void> {
    if (!this.buffers.includes(buf) || buf.closing) return;
    const { sched } = this.mm.ctx;
    if (this.bugs.teardownZapFirst) {
      // BUG(hmm-teardown-zap-first): zap under the lock, unlock, wait for the ioctls in flight,
      // and only then stop the faults and remove: a fault programs pages after the zap.
      if (!this.dev.tryLock()) await this.dev.lock();
      this.zap(buf.start, buf.end);
      this.dev.unlock();
      this.mm.ev(t, this.label.closeZapped, buf.start, buf.end);
      if (buf.users > 0) {
        buf.closer = t;
        await sched.park(t, this.label.closeWait);
      } else await sched.yield(t, this.label.closeWait);
    }
    buf.closing = true;
    if (buf.users > 0) {
      buf.closer = t;
      await this.mm.ctx.sched.park(t, `${this.name} close: wait for ioctls`);
    }
    if (this.bugs.teardownZapFirst) {
      // BUG(hmm-teardown-zap-first): the removal, with no zap after the faults were stopped.
      const removal = startRemoval(this.mm, buf.sub);
      this.mm.ev(t, this.label.closeRemoved, buf.start, buf.end);
      await awaitRemoval(this.mm, t, buf.sub, removal, this.label.closeRemove);
    } else if (this.bugs.teardownRemoveFirst) {
      // BUG(hmm-teardown-remove-first): remove and await the removal, then zap: meanwhile the
      // subscription is gone and the translations are not.
      const removal = startRemoval(this.mm, buf.sub);
      this.mm.ev(t, this.label.closeRemoved, buf.start, buf.end);
      await awaitRemoval(this.mm, t, buf.sub, removal, this.label.closeRemove);
      if (!this.dev.tryLock()) await this.dev.lock();
      this.zap(buf.start, buf.end);
      this.dev.unlock();
      this.mm.ev(t, this.label.closeZapped, buf.start, buf.end);
    } else {
      await teardownOnTask(this.mm, t, buf.sub, {
        lock: this.dev,
        zap: (first, last) => this.zap(first / PAGE_SIZE, (last + 1) / PAGE_SIZE),
      });
    }
    this.removed.add(buf.sub);
    this.buffers.splice(this.buffers.indexOf(buf), 1);
    this.mm.ctx.stats.intervalRemoves++;
    this.mm.ev(t, this.label.close, buf.start, buf.end);
  }

  private zap(s: number, e: number): void {
    for (let p = s; p < e; p++) {
      if (this.frame[p]! >= 0) {
        this.frame[p] = -1;
        this.present.delete(p);
      }
    }
  }

  // ---- device access -----------------------------------------------------------------------

  /**
   * dmirror_read()/dmirror_write() of [start, end) inside `buf`. Returns 0 or -errno: at once
   * when the copy needed no scheduling point (the lock was free, every page present, at most one
   * 4-page stretch), else a promise of it.
   */
  access(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
    out?: number[],
  ): number | Promise<number> {
    if (buf.closing) return EFAULT;
    if ((this.accesses++ & 15) === 0) this.probeSetSeq(buf.sub);
    buf.users++;
    let r: number | Promise<number>;
    try {
      r = this.copy(t, buf, start, end, write, out);
    } catch (error) {
      this.leave(buf);
      throw error;
    }
    if (typeof r !== 'number') return r; // copyRest leaves `buf` when it ends
    this.leave(buf);
    return r;
  }

  /** The end of an access of `buf`: the last one out wakes a close() waiting for it. */
  private leave(buf: MirrorBuffer): void {
    if (--buf.users === 0 && buf.closer !== null) {
      const c = buf.closer;
      buf.closer = null;
      this.mm.ctx.sched.unpark(c);
    }
  }

  /**
   * The copy of [start, end) under the device lock (the lock is held across the copy, as dmirror
   * holds its mutex, with a scheduling point every 4 pages: copying takes time), faulting in
   * what the device page table lacks. The part up to the first scheduling point runs here.
   */
  private copy(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
    out: number[] | undefined,
  ): number | Promise<number> {
    const w = this.dev.lock();
    if (w) return this.copyRest(t, buf, start, end, write, out, COPY_LOCKED, w);
    const stop = this.copyRun(t, start, end, write, out);
    if (stop === COPY_YIELD) {
      const y = this.mm.ctx.sched.yield(t, this.label.copy);
      return this.copyRest(t, buf, this.copyAt, end, write, out, COPY_LOCKED, y);
    }
    this.dev.unlock();
    if (stop === COPY_DONE) return 0;
    return this.copyRest(t, buf, this.copyAt, end, write, out, COPY_MISSING, undefined);
  }

  /**
   * The copy from page `p` on, from where copy() stopped: COPY_LOCKED (the lock is taken or
   * being waited for, `pending` is that wait or a scheduling point, and the copy goes on after
   * it) or COPY_MISSING (the lock is dropped and page `p` must be faulted in). The access of
   * `buf` ends with it (leave).
   */
  private async copyRest(
    t: Task,
    buf: MirrorBuffer,
    p: number,
    end: number,
    write: boolean,
    out: number[] | undefined,
    from: number,
    pending: PromiseLike<void> | void,
  ): Promise<number> {
    const stats = this.mm.ctx.stats;
    try {
      for (;;) {
        if (from === COPY_LOCKED) {
          await pending;
          const stop = this.copyRun(t, p, end, write, out);
          p = this.copyAt;
          if (stop === COPY_YIELD) {
            pending = this.mm.ctx.sched.yield(t, this.label.copy);
            continue;
          }
          this.dev.unlock();
          if (stop === COPY_DONE) return 0;
        }
        stats.faults.hmm++;
        this.mm.note(t, FAULT_BEGIN.hmm, p, write ? 1 : 0);
        const r = await this.fault(t, buf, p, end, write);
        this.mm.note(t, FAULT_END, r);
        if (r < 0) return r;
        from = COPY_LOCKED;
        pending = this.dev.lock();
      }
    } finally {
      this.leave(buf);
    }
  }

  /**
   * Under the device lock: copies the pages from `p` while the device page table has them (with
   * the access asked for), up to `end` or the next scheduling point (after every 4th page).
   * Leaves the page it stopped at in `copyAt` and says why it stopped (COPY_*).
   */
  private copyRun(
    t: Task,
    p: number,
    end: number,
    write: boolean,
    out: number[] | undefined,
  ): number {
    const stats = this.mm.ctx.stats;
    let stop = COPY_DONE;
    while (p < end) {
      const f = this.frame[p]!;
      if (f < 0 || (write && (this.flags[p]! & DPT_WRITE) === 0)) {
        stop = COPY_MISSING;
        break;
      }
      stats.accesses.hmm++;
      const g = this.gen[p]!;
      const v = write
        ? this.checker.write(this.name, p, f, g)
        : this.checker.read(this.name, p, f, g);
      out?.push(v);
      this.mm.ev(t, write ? this.label.write : this.label.read, p, f, v);
      p++;
      if (p < end && (p & 3) === 0) {
        stop = COPY_YIELD;
        break;
      }
    }
    this.copyAt = p;
    return stop;
  }

  /**
   * dmirror_range_fault(): hmm_range_fault() of [start, end) with HMM_PFN_REQ_FAULT
   * (| REQ_WRITE), then program the device page table. Returns 0 or -errno.
   */
  async fault(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
  ): Promise<number> {
    if (buf.closing || !this.mm.get()) return EFAULT; // mmget_not_zero()
    try {
      const job = this.retryOf(t).rangeFault;
      job.buf = buf;
      job.start = start;
      job.end = end;
      job.write = write;
      job.keep = this.bugs.installUnlocked === true;
      // collisionRetry(), written out here (one async function less per fault).
      const c = this.prepareRetry(t, buf.sub, job, this.bugs.skipReadRetry === true);
      let r = 0;
      try {
        const { retries } = await faultWithRetry(c.options);
        this.mm.ctx.stats.retries.hmm += retries;
      } catch (error) {
        r = c.errno(error);
      }
      if (!job.keep || r < 0) return r;
      // BUG(hmm-install-unlocked): readRetry under the lock, program after unlocking and after
      // a scheduling point (the table allocation), when an invalidation may have zapped.
      this.mm.ev(t, this.label.programAlloc, start, end);
      await this.mm.ctx.sched.yield(t, this.label.programAlloc);
      try {
        this.program(t, buf, start, end, job.checked);
        return 0;
      } catch (error) {
        return errnoOf(error);
      }
    } finally {
      this.mm.put();
    }
  }

  /**
   * hmm_range_fault() of [start, end) for the read `seq`: the present pages (writable ones if
   * `write`), faulting in the others; stops early once checkRetry(seq) (-EBUSY). Synchronous
   * unless a fault sleeps.
   */
  walkRange(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
    seq: number,
  ): PageRef[] | Promise<PageRef[]> {
    const refs: PageRef[] = [];
    for (let p = start; p < end; ) {
      if (buf.sub.checkRetry(seq)) break; // -EBUSY
      const ref = this.mm.lookup(p);
      if (ref !== undefined && (!write || ref.writable)) {
        refs.push(ref);
        p++;
        continue;
      }
      const r = this.mm.handleFault(t, p, write); // then walk again from p
      if (typeof r !== 'number') return this.walkRangeFrom(r, t, buf, p, end, write, seq, refs);
      if (r < 0) throw Errno.of(r);
    }
    return refs;
  }

  /** walkRange() from page `p` on, after the fault of `p` slept. */
  private async walkRangeFrom(
    fault: Promise<number>,
    t: Task,
    buf: MirrorBuffer,
    p: number,
    end: number,
    write: boolean,
    seq: number,
    refs: PageRef[],
  ): Promise<PageRef[]> {
    const r = await fault;
    if (r < 0) throw Errno.of(r);
    const rest = this.walkRange(t, buf, p, end, write, seq);
    const more = rest instanceof Promise ? await rest : rest;
    for (const ref of more) refs.push(ref);
    return refs;
  }

  /** Programs the device page table with the walked pages (under the device lock). */
  program(t: Task, buf: MirrorBuffer, start: number, end: number, refs: PageRef[]): void {
    if (buf.closing) throw Errno.of(EFAULT);
    for (const ref of refs) {
      this.checker.onInstall(this.name, ref.page, ref.frame, ref.gen, ref.writable);
      this.frame[ref.page] = ref.frame;
      this.gen[ref.page] = ref.gen;
      this.flags[ref.page] = ref.writable ? DPT_WRITE : 0;
      this.present.add(ref.page);
    }
    this.mm.ev(t, this.label.program, start, end);
  }

  /**
   * A snapshot's walk of [start, end) for the read `seq` (see snapshot()): one SNAP_* byte per
   * page into `perms`, stopping early once checkRetry(seq).
   */
  async walkSnapshot(
    t: Task,
    sub: IntervalNotifier,
    start: number,
    end: number,
    perms: Uint8Array,
    seq: number,
  ): Promise<void> {
    for (let p = start; p < end && !sub.checkRetry(seq); p++) {
      const vma = this.mm.vmas.find(p);
      const ref = this.mm.lookup(p);
      perms[p - start] =
        vma === undefined || (vma.prot & PROT_READ) === 0
          ? SNAP_ERROR
          : ref === undefined
            ? SNAP_NONE
            : ref.writable
              ? SNAP_WRITE
              : SNAP_READ;
      // Walking takes time: let the world move (only invalidations can make it stale).
      if ((p & 7) === 7) await this.mm.ctx.sched.yield(t, this.label.snapshotWalk);
    }
  }

  /** A snapshot's check once readRetry passed: nothing reported with more than the primary gives. */
  checkSnapshot(t: Task, start: number, end: number, perms: Uint8Array): void {
    for (let p = start; p < end; p++) {
      const v = perms[p - start]!;
      const more =
        v >= SNAP_READ && !this.mm.pt.accessible(p)
          ? 'mapped'
          : v === SNAP_WRITE && !this.mm.pt.writable(p)
            ? 'writable'
            : undefined;
      if (more !== undefined)
        this.checker.fail(`${this.name}: snapshot says page ${p} is ${more}, the primary says not`);
    }
    this.mm.ev(t, this.label.snapshot, start, end);
  }

  /** Task `t`'s collision-retry state (made at its first fault or snapshot). */
  private retryOf(t: Task): RangeRetry {
    let c = this.retries.get(t);
    if (c === undefined) {
      c = new RangeRetry(this, this.mm, t, this.dev, this.label);
      this.retries.set(t, c);
    }
    return c;
  }

  /**
   * The driver's collision-retry on `sub`, through faultWithRetry: readBegin (a scheduler wait
   * if it blocks), `job.walk(seq)` under the mmap read lock, then under the device mutex
   * readRetry and `job.program`. A walk that sees checkRetry(seq) stops early (-EBUSY, counted):
   * what it returns then is never programmed, since faultWithRetry's checks see the same
   * collision and retry. The retry backoff is a scheduling point; after HMM_TIMEOUT_STEPS steps
   * the fault gives up with -EBUSY (HMM_RANGE_DEFAULT_TIMEOUT). Returns 0 or the -errno thrown.
   */
  private async collisionRetry<P>(
    t: Task,
    sub: IntervalNotifier,
    job: RetryJob<P>,
    skipReadRetry = false,
  ): Promise<number> {
    const c = this.prepareRetry(t, sub, job, skipReadRetry);
    try {
      const { retries } = await faultWithRetry(c.options);
      this.mm.ctx.stats.retries.hmm += retries;
      return 0;
    } catch (error) {
      return c.errno(error);
    }
  }

  /** Task `t`'s collision-retry state, set for a collision-retry of `job` on `sub`. */
  private prepareRetry<P>(
    t: Task,
    sub: IntervalNotifier,
    job: RetryJob<P>,
    skipReadRetry: boolean,
  ): RangeRetry {
    const c = this.retryOf(t);
    c.sub = sub;
    c.job = job as RetryJob<unknown>;
    c.skipReadRetry = skipReadRetry;
    c.deadline = this.mm.ctx.sched.steps + HMM_TIMEOUT_STEPS;
    // The driver's wall-clock watchdog besides its step budget: never reached in a run.
    c.options.deadline = Date.now() + WATCHDOG_MS;
    c.seq = 0; // the read the walk belongs to
    return c;
  }

  /**
   * dmirror_snapshot() of [start, end): what the primary maps there, without faulting anything
   * in (hmm_range_fault without HMM_PFN_REQ_FAULT). Like dmirror_range_snapshot it registers a
   * temporary interval subscription exactly on the range (overlapping the buffers' long-lived
   * ones), runs the same collision-retry (readBegin / walk / readRetry under the device mutex),
   * and removes it. Returns one SNAP_* byte per page, or -errno. The result is checked against
   * the primary at the moment readRetry passed: nothing may be reported with more access than
   * the primary gives (every downgrade goes through an invalidation, so a stale "more" would
   * have collided).
   */
  async snapshot(t: Task, start: number, end: number): Promise<Uint8Array | number> {
    const { stats } = this.mm.ctx;
    if (!this.mm.get()) return EFAULT;
    const len = (end - start) * PAGE_SIZE;
    const sub = this.mm.subs.insertInterval(start * PAGE_SIZE, len, this.snapshotOps);
    stats.intervalInserts++;
    const job = this.retryOf(t).snapshot;
    job.sub = sub;
    job.start = start;
    job.end = end;
    const perms = new Uint8Array(end - start);
    job.perms = perms;
    try {
      const r = await this.collisionRetry(t, sub, job);
      return r < 0 ? r : perms;
    } finally {
      await awaitRemoval(
        this.mm,
        t,
        sub,
        startRemoval(this.mm, sub),
        'mmu_interval_notifier_remove (snapshot)',
      );
      stats.intervalRemoves++;
      this.mm.put();
    }
  }

  /**
   * True (and counted) once the scheduler passed `deadline`: the fault or snapshot gives up
   * with -EBUSY, as hmm_range_fault() after HMM_RANGE_DEFAULT_TIMEOUT.
   */
  timedOut(deadline: number): boolean {
    if (this.mm.ctx.sched.steps <= deadline) return false;
    this.mm.ctx.stats.hmmTimeouts++;
    return true;
  }

  // ---- checker view ------------------------------------------------------------------------

  forEachTranslation(fn: TranslationVisitor): void {
    for (const p of this.present)
      fn(p, this.frame[p]!, this.gen[p]!, (this.flags[p]! & DPT_WRITE) !== 0);
  }

  forEachTranslationIn(start: number, end: number, fn: TranslationVisitor): void {
    if (end - start > this.present.size) {
      for (const p of this.present) {
        if (p >= start && p < end)
          fn(p, this.frame[p]!, this.gen[p]!, (this.flags[p]! & DPT_WRITE) !== 0);
      }
      return;
    }
    for (let p = start; p < end; p++) {
      const f = this.frame[p]!;
      if (f >= 0) fn(p, f, this.gen[p]!, (this.flags[p]! & DPT_WRITE) !== 0);
    }
  }
}

/** `sub` with a setSeq that does nothing (the hmm-no-set-seq negative control only). */
function noSetSeq(sub: IntervalNotifier): IntervalNotifier {
  return Object.create(sub, { setSeq: { value: () => {} } }) as IntervalNotifier;
}

/** What a collision-retry walks (without the device lock) and programs (under it). */
interface RetryJob<P> {
  walk(seq: number): P | Promise<P>;
  program(walked: P): void;
}

/** A device fault's job: its range, and (hmm-install-unlocked) the pages kept for later. */
class RangeFaultJob implements RetryJob<PageRef[]> {
  buf!: MirrorBuffer;
  start = 0;
  end = 0;
  write = false;
  /** BUG(hmm-install-unlocked): program() only keeps the checked pages in `checked`. */
  keep = false;
  checked: PageRef[] = [];
  readonly walk: (seq: number) => PageRef[] | Promise<PageRef[]>;
  readonly program: (refs: PageRef[]) => void;

  constructor(mirror: HmmMirror, t: Task) {
    this.walk = (seq) => mirror.walkRange(t, this.buf, this.start, this.end, this.write, seq);
    this.program = (refs) => {
      if (this.keep) this.checked = refs;
      else mirror.program(t, this.buf, this.start, this.end, refs);
    };
  }
}

/** A snapshot's job: its temporary subscription, range and result bytes. */
class SnapshotJob implements RetryJob<void> {
  sub!: IntervalNotifier;
  start = 0;
  end = 0;
  perms = new Uint8Array(0);
  readonly walk: (seq: number) => Promise<void>;
  readonly program: () => void;

  constructor(mirror: HmmMirror, t: Task) {
    this.walk = (seq) => mirror.walkSnapshot(t, this.sub, this.start, this.end, this.perms, seq);
    this.program = () => mirror.checkSnapshot(t, this.start, this.end, this.perms);
  }
}

/**
 * One device task's collision-retry (a task runs one at a time): the subscription view and the
 * faultWithRetry options, made at the task's first one and reused (faultWithRetry reads the
 * options when called), so a fault makes no closures. `sub`, `job` and the rest are set per
 * collision-retry.
 */
class RangeRetry implements FaultSubscription {
  sub!: IntervalNotifier;
  job!: RetryJob<unknown>;
  skipReadRetry = false;
  deadline = 0;
  /** The read the walk belongs to. */
  seq = 0;
  readonly options: SubscriptionFaultOptions<unknown>;
  readonly rangeFault: RangeFaultJob;
  readonly snapshot: SnapshotJob;

  constructor(
    private readonly mirror: HmmMirror,
    private readonly mm: AddressSpace,
    private readonly t: Task,
    lock: NotifierLock,
    private readonly label: ReturnType<typeof labels>,
  ) {
    this.rangeFault = new RangeFaultJob(mirror, t);
    this.snapshot = new SnapshotJob(mirror, t);
    this.options = {
      subscription: this,
      lock: new PreemptibleLock(mm.ctx.sched, t, lock, label.takeLock, () =>
        this.mustNotRetry('took the device lock'),
      ),
      resolve: () => this.resolve(),
      install: (walked) => this.job.program(walked),
      backoff: () => this.backoff(),
    };
  }

  /**
   * The -errno of a failed collision-retry: what resolve/backoff threw, or -EBUSY for the
   * watchdog, which must not fire before its deadline.
   */
  errno(error: unknown): number {
    if (!(error instanceof FaultDeadlineError)) return errnoOf(error);
    if (Date.now() < this.options.deadline!) {
      this.mm.checker.fail(`${this.t.name}: FaultDeadlineError before the watchdog's deadline`);
    }
    return EBUSY;
  }

  readBegin(): number | Promise<number> {
    const s = readBegin(this.mm, this.t, this.sub, this.label.readBegin);
    if (typeof s === 'number') {
      this.seq = s;
      return s;
    }
    return s.then((v) => {
      this.seq = v;
      return v;
    });
  }

  readRetry(seq: number): boolean {
    if (this.skipReadRetry) return false; // BUG(hmm-no-read-retry)
    return checkedRetry(this.mm, this.sub, seq, this.sub.readRetry(seq), 'readRetry');
  }

  checkRetry(seq: number): boolean {
    return checkedRetry(this.mm, this.sub, seq, this.sub.checkRetry(seq), 'checkRetry');
  }

  /**
   * faultWithRetry runs the lockless checkRetry(seq) before it resolves and again before it takes
   * the lock, and goes on only if it says no retry: checked here at both points.
   */
  private mustNotRetry(what: string): void {
    if (this.sub.checkRetry(this.seq)) {
      this.mm.checker.fail(
        `${this.t.name}: ${what} although checkRetry(seq) already said the read collided`,
      );
    }
  }

  /** The walk under the mmap read lock. */
  private async resolve(): Promise<unknown> {
    this.mustNotRetry('resolved the range');
    const w = this.mm.readLock(this.t);
    if (w !== undefined) await w;
    try {
      const walking = this.job.walk(this.seq);
      const walked = walking instanceof Promise ? await walking : walking;
      if (this.sub.checkRetry(this.seq)) this.mm.ctx.stats.hmmBusy++; // stopped early: -EBUSY
      return walked;
    } finally {
      this.mm.mmapLock.readUnlock();
    }
  }

  private backoff(): Promise<void> {
    if (this.mirror.timedOut(this.deadline)) throw Errno.of(EBUSY);
    const sub = this.sub;
    this.mm.ev(this.t, this.label.readRetry, sub.start / PAGE_SIZE, (sub.last + 1) / PAGE_SIZE);
    return this.mm.ctx.sched.spinYield(this.t, this.label.readRetry);
  }
}
