import type { IntervalNotifier, MmuNotifierRange } from '@mmukit/mmu-notifier';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimMutex } from '../locks.js';
import { type AddressSpace, EBUSY, EFAULT, PAGE_SIZE, type PageRef } from '../primary/mm.js';
import { PROT_READ } from '../primary/vmas.js';
import type { Task } from '../scheduler.js';
import { readBegin } from './read-begin.js';

/** Deliberate bugs for the checker's negative controls. */
export interface HmmBugs {
  /** Program the device page table without mmu_interval_read_retry(). */
  skipReadRetry?: boolean;
  /** invalidate() zaps but never calls mmu_interval_set_seq(). */
  skipSetSeq?: boolean;
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

/**
 * An HMM mirror device in the style of lib/test_hmm.c's dmirror: a device page table (one
 * entry per virtual page: frame, generation, write tag), one interval subscription per mirrored
 * buffer, and the documented driver pattern:
 *
 *   fault:      seq = readBegin(sub); hmm_range_fault() (walk the primary page table under the
 *               mmap read lock, fault in what is missing; -EBUSY as soon as checkRetry(seq));
 *               lock(dev); if readRetry(sub, seq) { unlock; again } program; unlock
 *               (bounded by HMM_TIMEOUT_STEPS -> -EBUSY, like HMM_RANGE_DEFAULT_TIMEOUT)
 *   invalidate: blockable ? lock(dev) : trylock(dev) or return false; setSeq(curSeq); zap; unlock
 *   read/write: under lock(dev), copy through the device page table page by page; on the first
 *               missing (or read-only, for writes) entry: unlock, fault from there, go on.
 *
 * The device lock is the "user lock" of the collision-retry: it serializes readRetry+program
 * against setSeq+zap, so a fault that passed readRetry under it cannot install a page an
 * invalidation already zapped.
 */
export class HmmMirror implements SecondaryView {
  readonly devLock: SimMutex;
  readonly buffers: MirrorBuffer[] = [];
  private readonly frame: Int32Array;
  private readonly gen: Float64Array;
  private readonly flags: Uint8Array;
  private readonly present = new Set<number>();
  private readonly removed = new Set<IntervalNotifier>();
  /** Trace and wait labels, built once. */
  private readonly label: {
    close: string;
    trylockFailed: string;
    invalidate: string;
    read: string;
    write: string;
    readRetry: string;
    program: string;
    snapshot: string;
    copy: string;
    snapshotWalk: string;
  };
  private readonly ops = {
    invalidate: (sub: IntervalNotifier, range: MmuNotifierRange, curSeq: number) =>
      this.invalidate(sub, range, curSeq),
  };

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    readonly name = 'hmm',
    private readonly bugs: HmmBugs = {},
  ) {
    this.devLock = new SimMutex(mm.ctx.sched, `${name}.mutex`);
    this.label = {
      close: `${name} close`,
      trylockFailed: `${name} invalidate: trylock failed`,
      invalidate: `${name} invalidate`,
      read: `${name} read`,
      write: `${name} write`,
      readRetry: `${name} read_retry`,
      program: `${name} program`,
      snapshot: `${name} snapshot`,
      copy: `${name} copy`,
      snapshotWalk: `${name} snapshot walk`,
    };
    this.frame = new Int32Array(mm.pages).fill(-1);
    this.gen = new Float64Array(mm.pages);
    this.flags = new Uint8Array(mm.pages);
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
   * Stops mirroring a buffer: no fault may program it any more, its entries are dropped under
   * the device lock, then mmu_interval_notifier_remove() (which may wait for a running
   * invalidation). After that its invalidate must never be called again (checked).
   */
  async close(t: Task, buf: MirrorBuffer): Promise<void> {
    const i = this.buffers.indexOf(buf);
    if (i < 0 || buf.closing) return;
    buf.closing = true;
    if (buf.users > 0) {
      buf.closer = t;
      await this.mm.ctx.sched.park(t, `${this.name} close: wait for ioctls`);
    }
    await this.lock(t);
    this.zap(buf.start, buf.end);
    this.devLock.unlock(t);
    await this.mm.ctx.sched.wait(t, buf.sub.remove(), 'mmu_interval_notifier_remove');
    this.removed.add(buf.sub);
    this.buffers.splice(this.buffers.indexOf(buf), 1);
    this.mm.ctx.stats.intervalRemoves++;
    this.mm.ev(t, this.label.close, buf.start, buf.end);
  }

  // ---- invalidation ------------------------------------------------------------------------

  /** dmirror_interval_invalidate(). */
  private invalidate(
    sub: IntervalNotifier,
    range: MmuNotifierRange,
    curSeq: number,
  ): boolean | Promise<boolean> {
    if (this.removed.has(sub))
      this.checker.fail(`${this.name}: invalidate called after remove() returned`);
    const t = this.mm.ctx.sched.current;
    if (t === null) throw new Error('HMM invalidate outside any task');
    if (this.devLock.tryLock(t)) {
      this.invalidateLocked(t, sub, range, curSeq);
      return true;
    }
    if (!range.blockable) {
      this.mm.ev(t, this.label.trylockFailed, range.start / PAGE_SIZE, range.end / PAGE_SIZE);
      return false; // mutex_trylock() failed: -EAGAIN
    }
    this.mm.ctx.stats.waits.lock++;
    return (this.devLock.lock(t) as Promise<void>).then(() => {
      this.invalidateLocked(t, sub, range, curSeq);
      return true;
    });
  }

  private invalidateLocked(
    t: Task,
    sub: IntervalNotifier,
    range: MmuNotifierRange,
    curSeq: number,
  ): void {
    if (!this.bugs.skipSetSeq) sub.setSeq(curSeq);
    const s = Math.max(range.start / PAGE_SIZE, sub.start / PAGE_SIZE);
    const e = Math.min(range.end / PAGE_SIZE, (sub.last + 1) / PAGE_SIZE);
    this.zap(s, e);
    this.mm.ev(t, this.label.invalidate, s, e, curSeq);
    this.devLock.unlock(t);
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
      await this.lock(t);
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
      this.devLock.unlock(t);
      if (!missing) return 0;
      stats.faults.hmm++;
      const r = await this.fault(t, buf, p, end, write);
      if (r < 0) return r;
    }
    return 0;
  }

  /** dmirror_range_fault(): the collision-retry loop with its time bound. */
  async fault(
    t: Task,
    buf: MirrorBuffer,
    start: number,
    end: number,
    write: boolean,
  ): Promise<number> {
    const { sched, stats } = this.mm.ctx;
    if (buf.closing || !this.mm.get()) return EFAULT; // mmget_not_zero()
    try {
      const deadline = sched.steps + HMM_TIMEOUT_STEPS;
      for (;;) {
        if (this.timedOut(deadline)) return EBUSY;
        let seq = readBegin(this.mm.ctx, t, buf.sub, 'mmu_interval_read_begin');
        if (typeof seq !== 'number') seq = await seq;
        await this.mm.readLock(t);
        let refs: PageRef[] | number;
        try {
          refs = await this.rangeFault(t, buf.sub, seq, start, end, write);
        } finally {
          this.mm.mmapLock.readUnlock();
        }
        if (refs === EBUSY) {
          stats.hmmBusy++;
          continue;
        }
        if (typeof refs === 'number') return refs;
        await this.lock(t);
        if (!this.bugs.skipReadRetry && buf.sub.readRetry(seq)) {
          this.devLock.unlock(t);
          stats.retries.hmm++;
          this.mm.ev(t, this.label.readRetry, start, end, seq);
          continue;
        }
        if (buf.closing) {
          this.devLock.unlock(t);
          return EFAULT;
        }
        for (const ref of refs) {
          this.checker.onInstall(this.name, ref.page, ref.frame, ref.gen, ref.writable);
          this.frame[ref.page] = ref.frame;
          this.gen[ref.page] = ref.gen;
          this.flags[ref.page] = ref.writable ? DPT_WRITE : 0;
          this.present.add(ref.page);
        }
        this.mm.ev(t, this.label.program, start, end, seq);
        this.devLock.unlock(t);
        return 0;
      }
    } finally {
      this.mm.put();
    }
  }

  /**
   * hmm_range_fault() with HMM_PFN_REQ_FAULT (| REQ_WRITE): caller holds the mmap read lock.
   * Returns the pages, EBUSY when checkRetry(seq) shows a collision, or EFAULT/EPERM.
   */
  private async rangeFault(
    t: Task,
    sub: IntervalNotifier,
    seq: number,
    start: number,
    end: number,
    write: boolean,
  ): Promise<PageRef[] | number> {
    const refs: PageRef[] = [];
    let p = start;
    while (p < end) {
      if (sub.checkRetry(seq)) return EBUSY;
      const ref = this.mm.lookup(p);
      if (ref !== undefined && (!write || ref.writable)) {
        refs.push(ref);
        p++;
        continue;
      }
      const r = await this.mm.handleFault(t, p, write); // then walk again from p
      if (r < 0) return r;
    }
    return refs;
  }

  /**
   * dmirror_snapshot() of [start, end): what the primary maps there, without faulting anything
   * in (hmm_range_fault without HMM_PFN_REQ_FAULT). Like dmirror_range_snapshot it registers a
   * temporary interval subscription exactly on the range (overlapping the buffers' long-lived
   * ones), runs readBegin / walk / readRetry under the device mutex, and removes it. Returns one
   * SNAP_* byte per page, or -errno. The result is checked against the primary at the moment
   * readRetry passed: nothing may be reported with more access than the primary gives (every
   * downgrade goes through an invalidation, so a stale "more" would have collided).
   */
  async snapshot(t: Task, start: number, end: number): Promise<Uint8Array | number> {
    const { sched, stats } = this.mm.ctx;
    if (!this.mm.get()) return EFAULT;
    try {
      const sub = this.mm.subs.insertInterval(start * PAGE_SIZE, (end - start) * PAGE_SIZE, {
        invalidate: (s, range, curSeq) => this.snapshotInvalidate(s, range, curSeq),
      });
      stats.intervalInserts++;
      try {
        const deadline = sched.steps + HMM_TIMEOUT_STEPS;
        for (;;) {
          if (this.timedOut(deadline)) return EBUSY;
          let seq = readBegin(this.mm.ctx, t, sub, 'mmu_interval_read_begin (snapshot)');
          if (typeof seq !== 'number') seq = await seq;
          await this.mm.readLock(t);
          const perms = new Uint8Array(end - start);
          let busy = false;
          try {
            for (let p = start; p < end && !busy; p++) {
              if (sub.checkRetry(seq)) busy = true;
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
          } finally {
            this.mm.mmapLock.readUnlock();
          }
          if (busy) {
            stats.hmmBusy++;
            continue;
          }
          await this.lock(t);
          if (sub.readRetry(seq)) {
            this.devLock.unlock(t);
            stats.retries.hmm++;
            continue;
          }
          for (let p = start; p < end; p++) {
            const v = perms[p - start]!;
            if ((v === SNAP_READ || v === SNAP_WRITE) && !this.mm.pt.accessible(p)) {
              this.checker.fail(
                `${this.name}: snapshot says page ${p} is mapped, the primary does not map it`,
              );
            }
            if (v === SNAP_WRITE && !this.mm.pt.writable(p)) {
              this.checker.fail(
                `${this.name}: snapshot says page ${p} is writable, the primary does not`,
              );
            }
          }
          this.devLock.unlock(t);
          this.mm.ev(t, this.label.snapshot, start, end, seq);
          return perms;
        }
      } finally {
        await sched.wait(t, sub.remove(), 'mmu_interval_notifier_remove (snapshot)');
        stats.intervalRemoves++;
      }
    } finally {
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

  /** dmirror_snapshot_invalidate(): lock (or trylock), setSeq, unlock; nothing to zap. */
  private snapshotInvalidate(
    sub: IntervalNotifier,
    range: MmuNotifierRange,
    curSeq: number,
  ): boolean | Promise<boolean> {
    const t = this.mm.ctx.sched.current;
    if (t === null) throw new Error('HMM snapshot invalidate outside any task');
    if (this.devLock.tryLock(t)) {
      sub.setSeq(curSeq);
      this.devLock.unlock(t);
      return true;
    }
    if (!range.blockable) return false;
    this.mm.ctx.stats.waits.lock++;
    return (this.devLock.lock(t) as Promise<void>).then(() => {
      sub.setSeq(curSeq);
      this.devLock.unlock(t);
      return true;
    });
  }

  private async lock(t: Task): Promise<void> {
    const w = this.devLock.lock(t);
    if (w !== undefined) {
      this.mm.ctx.stats.waits.lock++;
      await w;
    }
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
