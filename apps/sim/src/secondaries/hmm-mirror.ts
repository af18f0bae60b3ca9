import { faultWithRetry } from '@mmukit/fault-retry';
import {
  type IntervalNotifier,
  type IntervalNotifierOps,
  invalidateOps,
  type NotifierLock,
} from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimMutex } from '../locks.js';
import { type AddressSpace, EBUSY, EFAULT, PAGE_SIZE, type PageRef } from '../primary/mm.js';
import { PROT_READ } from '../primary/vmas.js';
import type { Task } from '../scheduler.js';
import { FAULT_BEGIN, FAULT_END } from '../trace.js';
import {
  awaitRemoval,
  Errno,
  errnoOf,
  preemptibleLock,
  readBegin,
  teardownOnTask,
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
  /** The device mutex (a SimMutex), as the packages' helpers take it. */
  readonly dev: NotifierLock;
  readonly buffers: MirrorBuffer[] = [];
  private readonly frame: Int32Array;
  private readonly gen: Float64Array;
  private readonly flags: Uint8Array;
  private readonly present = new Set<number>();
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
    this.dev = new SimMutex(sched, `${name}.mutex`).notifierLock(() => stats.waits.lock++);
    this.label = labels(name);
    this.frame = new Int32Array(mm.pages).fill(-1);
    this.gen = new Float64Array(mm.pages);
    this.flags = new Uint8Array(mm.pages);
    const ops = invalidateOps({
      lock: this.dev,
      zap: (first, last, _range, sub) => {
        const [s, e] = [first / PAGE_SIZE, (last + 1) / PAGE_SIZE];
        this.zap(s, e);
        mm.ev(sched.current!, this.label.invalidate, s, e, sub.seq);
      },
    });
    this.ops = {
      invalidate: (sub, range, curSeq) => {
        if (this.removed.has(sub))
          this.checker.fail(`${name}: invalidate called after remove() returned`);
        // BUG(hmm-no-set-seq): the callback's setSeq(curSeq) does nothing.
        const ok = ops.invalidate(bugs.skipSetSeq ? noSetSeq(sub) : sub, range, curSeq);
        const [s, e] = [range.start / PAGE_SIZE, range.end / PAGE_SIZE];
        if (ok === false) mm.ev(sched.current!, this.label.trylockFailed, s, e); // EAGAIN
        return ok;
      },
    };
    this.snapshotOps = invalidateOps({ lock: this.dev, zap: () => {} });
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
      const removal = buf.sub.remove();
      this.mm.ev(t, this.label.closeRemoved, buf.start, buf.end);
      await awaitRemoval(this.mm, t, buf.sub, removal, this.label.closeRemove);
    } else if (this.bugs.teardownRemoveFirst) {
      // BUG(hmm-teardown-remove-first): remove and await the removal, then zap: meanwhile the
      // subscription is gone and the translations are not.
      const removal = buf.sub.remove();
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

  /** dmirror_read()/dmirror_write() of [start, end) inside `buf`. Returns 0 or -errno. */
  async access(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
    out?: number[],
  ): Promise<number> {
    if (buf.closing) return EFAULT;
    buf.users++;
    try {
      return await this.copy(t, buf, start, end, write, out);
    } finally {
      if (--buf.users === 0 && buf.closer !== null) {
        const c = buf.closer;
        buf.closer = null;
        this.mm.ctx.sched.unpark(c);
      }
    }
  }

  private async copy(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
    out: number[] | undefined,
  ): Promise<number> {
    const stats = this.mm.ctx.stats;
    let p = start;
    while (p < end) {
      await this.dev.lock();
      let missing = false;
      while (p < end) {
        const f = this.frame[p]!;
        if (f < 0 || (write && (this.flags[p]! & DPT_WRITE) === 0)) {
          missing = true;
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
        // Copying takes time: the device lock is held across it, as dmirror holds its mutex.
        if (p < end && (p & 3) === 0) await this.mm.ctx.sched.yield(t, this.label.copy);
      }
      this.dev.unlock();
      if (!missing) return 0;
      stats.faults.hmm++;
      this.mm.note(t, FAULT_BEGIN.hmm, p, write ? 1 : 0);
      const r = await this.fault(t, buf, p, end, write);
      this.mm.note(t, FAULT_END, r);
      if (r < 0) return r;
    }
    return 0;
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
      const walk = async (seq: number): Promise<PageRef[]> => {
        const refs: PageRef[] = [];
        for (let p = start; p < end; ) {
          if (buf.sub.checkRetry(seq)) break; // -EBUSY
          const ref = this.mm.lookup(p);
          if (ref !== undefined && (!write || ref.writable)) {
            refs.push(ref);
            p++;
            continue;
          }
          const r = await this.mm.handleFault(t, p, write); // then walk again from p
          if (r < 0) throw Errno.of(r);
        }
        return refs;
      };
      const program = (refs: PageRef[]): void => {
        if (buf.closing) throw Errno.of(EFAULT);
        for (const ref of refs) {
          this.checker.onInstall(this.name, ref.page, ref.frame, ref.gen, ref.writable);
          this.frame[ref.page] = ref.frame;
          this.gen[ref.page] = ref.gen;
          this.flags[ref.page] = ref.writable ? DPT_WRITE : 0;
          this.present.add(ref.page);
        }
        this.mm.ev(t, this.label.program, start, end);
      };
      if (!this.bugs.installUnlocked) {
        return await this.collisionRetry(t, buf.sub, walk, program, this.bugs.skipReadRetry);
      }
      // BUG(hmm-install-unlocked): readRetry under the lock, program after unlocking and after
      // a scheduling point (the table allocation), when an invalidation may have zapped.
      let checked: PageRef[] = [];
      const keep = (refs: PageRef[]): void => {
        checked = refs;
      };
      const r = await this.collisionRetry(t, buf.sub, walk, keep, this.bugs.skipReadRetry);
      if (r < 0) return r;
      this.mm.ev(t, this.label.programAlloc, start, end);
      await this.mm.ctx.sched.yield(t, this.label.programAlloc);
      try {
        program(checked);
        return 0;
      } catch (error) {
        return errnoOf(error);
      }
    } finally {
      this.mm.put();
    }
  }

  /**
   * The driver's collision-retry on `sub`, through faultWithRetry: readBegin (a scheduler wait
   * if it blocks), `walk(seq)` under the mmap read lock, then under the device mutex readRetry
   * and `program`. A walk that sees checkRetry(seq) stops early (-EBUSY, counted): what it
   * returns then is never programmed, since faultWithRetry's checks see the same collision and
   * retry. The retry backoff is a scheduling point; after HMM_TIMEOUT_STEPS steps the fault
   * gives up with -EBUSY (HMM_RANGE_DEFAULT_TIMEOUT). Returns 0 or the -errno thrown.
   */
  private async collisionRetry<P>(
    t: Task,
    sub: IntervalNotifier,
    walk: (seq: number) => Promise<P>,
    program: (walked: P) => void,
    skipReadRetry = false,
  ): Promise<number> {
    const { ctx } = this.mm;
    const deadline = ctx.sched.steps + HMM_TIMEOUT_STEPS;
    let seq = 0; // the read the walk belongs to
    try {
      const { retries } = await faultWithRetry({
        subscription: {
          readBegin: async () => (seq = await readBegin(this.mm, t, sub, this.label.readBegin)),
          readRetry: (s) => !skipReadRetry && sub.readRetry(s), // BUG(hmm-no-read-retry)
          checkRetry: (s) => sub.checkRetry(s),
        },
        lock: preemptibleLock(ctx, t, this.dev, this.label.takeLock),
        resolve: async () => {
          await this.mm.readLock(t);
          try {
            const walked = await walk(seq);
            if (sub.checkRetry(seq)) ctx.stats.hmmBusy++; // the walk stopped early: -EBUSY
            return walked;
          } finally {
            this.mm.mmapLock.readUnlock();
          }
        },
        install: program,
        backoff: () => {
          if (this.timedOut(deadline)) throw Errno.of(EBUSY);
          this.mm.ev(t, this.label.readRetry, sub.start / PAGE_SIZE, (sub.last + 1) / PAGE_SIZE);
          return ctx.sched.spinYield(t, this.label.readRetry);
        },
      });
      ctx.stats.retries.hmm += retries;
      return 0;
    } catch (error) {
      return errnoOf(error);
    }
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
    const { sched, stats } = this.mm.ctx;
    if (!this.mm.get()) return EFAULT;
    const len = (end - start) * PAGE_SIZE;
    const sub = this.mm.subs.insertInterval(start * PAGE_SIZE, len, this.snapshotOps);
    stats.intervalInserts++;
    const perms = new Uint8Array(end - start);
    const walk = async (seq: number): Promise<void> => {
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
        if ((p & 7) === 7) await sched.yield(t, this.label.snapshotWalk);
      }
    };
    const check = (): void => {
      for (let p = start; p < end; p++) {
        const v = perms[p - start]!;
        const more =
          v >= SNAP_READ && !this.mm.pt.accessible(p)
            ? 'mapped'
            : v === SNAP_WRITE && !this.mm.pt.writable(p)
              ? 'writable'
              : undefined;
        if (more !== undefined)
          this.checker.fail(
            `${this.name}: snapshot says page ${p} is ${more}, the primary says not`,
          );
      }
      this.mm.ev(t, this.label.snapshot, start, end);
    };
    try {
      const r = await this.collisionRetry(t, sub, walk, check);
      return r < 0 ? r : perms;
    } finally {
      await awaitRemoval(this.mm, t, sub, sub.remove(), 'mmu_interval_notifier_remove (snapshot)');
      stats.intervalRemoves++;
      this.mm.put();
    }
  }

  /**
   * True (and counted) once the scheduler passed `deadline`: the fault or snapshot gives up
   * with -EBUSY, as hmm_range_fault() after HMM_RANGE_DEFAULT_TIMEOUT.
   */
  private timedOut(deadline: number): boolean {
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
