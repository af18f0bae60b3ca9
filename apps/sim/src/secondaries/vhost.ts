import type { MmuNotifier, MmuNotifierRange } from '@mmukit/mmu-notifier';
import { SeqCount } from '@mmukit/seqcount';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { type AddressSpace, PAGE_SIZE } from '../primary/mm.js';
import type { Task } from '../scheduler.js';

/** Deliberate bugs for the checker's negative controls. */
export interface VhostBugs {
  /** invalidateRangeStart clears the maps but does not wait for the worker to leave them. */
  noWait?: boolean;
  /** The map prefetch installs without checking mapSeq (a map can outlive its invalidation). */
  noPrefetchRetry?: boolean;
}

/** One ring: `npages` virtual pages from `start`, and its cached map (frame + gen per page). */
export interface VhostRing {
  start: number;
  npages: number;
  mapped: boolean;
  frames: Int32Array;
  gens: Float64Array;
}

/**
 * A vhost-style accessor: the worker reads and writes a few rings (vring desc/avail/used)
 * through cached kernel mappings of their pages instead of copy_to/from_user(), as the 2019
 * "vhost: access vq metadata through kernel virtual address" series did, with the
 * synchronization that thread concluded (seeds 000/001):
 *
 * - `accessSeq` (the patch's vq->seq): the worker brackets every use of a map with
 *   writeBegin()/writeEnd(), so "odd" means "a reader is inside". The notifier clears the map
 *   pointers, then waits until it is even (readBeginWait()) before returning from
 *   invalidateRangeStart: after that no one can still be touching the old pages. A seqlock
 *   alone is not enough (Gunthorpe: the invalidation must block until the other thread leaves
 *   its critical section); this wait is that block. Non-blockable ranges with a reader inside
 *   return false (EAGAIN) after undoing their own bookkeeping.
 * - `mapSeq`: written by the notifier from the first overlapping start to the last end (nested
 *   invalidations are counted, like vq->invalidate_count); the prefetch that rebuilds a map
 *   reads it before get_user_pages() and installs only if readRetry() is false. That is the
 *   collision-retry for the map itself.
 */
export class VhostDev implements SecondaryView {
  readonly name = 'vhost';
  readonly rings: VhostRing[];
  readonly accessSeq = new SeqCount();
  readonly mapSeq = new SeqCount();
  invalidateCount = 0;
  private readonly notifier: MmuNotifier;

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    rings: { start: number; npages: number }[],
    private readonly bugs: VhostBugs = {},
  ) {
    this.rings = rings.map((r) => ({
      start: r.start,
      npages: r.npages,
      mapped: false,
      frames: new Int32Array(r.npages),
      gens: new Float64Array(r.npages),
    }));
    this.notifier = mm.subs.register({
      invalidateRangeStart: (_sub, range) => this.invalidateStart(range),
      invalidateRangeEnd: (_sub, range) => this.invalidateEnd(range),
      release: () => this.release(),
    });
  }

  /** The classic subscription (for unregister). */
  get subscription(): MmuNotifier {
    return this.notifier;
  }

  private overlaps(s: number, e: number): boolean {
    for (const r of this.rings) if (r.start < e && r.start + r.npages > s) return true;
    return false;
  }

  private invalidateStart(range: MmuNotifierRange): boolean | Promise<boolean> {
    const s = range.start / PAGE_SIZE;
    const e = range.end / PAGE_SIZE;
    if (!this.overlaps(s, e)) return true;
    const { sched, stats } = this.mm.ctx;
    const t = sched.current;
    if (t === null) throw new Error('vhost notifier callback outside any task');
    if (this.invalidateCount++ === 0) this.mapSeq.writeBegin();
    for (const r of this.rings) if (r.start < e && r.start + r.npages > s) r.mapped = false;
    if (this.bugs.noWait || !this.accessSeq.writing) return true;
    if (!range.blockable) {
      // Would have to wait for the worker: EAGAIN. The core will not call our end for a start
      // that failed, so undo this start's bookkeeping here.
      if (--this.invalidateCount === 0) this.mapSeq.writeEnd();
      this.mm.ev(t, 'vhost invalidate: reader inside, EAGAIN', s, e);
      return false;
    }
    stats.waits.vhostReader++;
    this.mm.ev(t, 'vhost invalidate: wait for the worker', s, e, this.accessSeq.sequence);
    return sched
      .wait(t, this.accessSeq.readBeginWait(), 'vhost: wait for map reader')
      .then(() => true);
  }

  private invalidateEnd(range: MmuNotifierRange): void {
    if (!this.overlaps(range.start / PAGE_SIZE, range.end / PAGE_SIZE)) return;
    if (--this.invalidateCount === 0) this.mapSeq.writeEnd();
  }

  private release(): void | Promise<void> {
    for (const r of this.rings) r.mapped = false;
    const t = this.mm.ctx.sched.current;
    if (this.bugs.noWait || !this.accessSeq.writing || t === null) return;
    return this.mm.ctx.sched
      .wait(t, this.accessSeq.readBeginWait(), 'vhost release: wait')
      .then(() => {});
  }

  /** One worker access (vhost_get_user/vhost_put_user) to a page of a ring. */
  async access(t: Task, ring: VhostRing, index: number, write: boolean): Promise<void> {
    const { sched, stats } = this.mm.ctx;
    const page = ring.start + index;
    this.accessSeq.writeBegin(); // the worker is inside: notifiers must wait for it
    if (ring.mapped) {
      const f = ring.frames[index]!;
      const g = ring.gens[index]!;
      stats.vhostFast++;
      stats.accesses.vhost += 2;
      // Read the descriptor, then (after a scheduling point: the copy takes time) update it
      // through the same mapping.
      this.mm.ev(t, 'vhost map read', page, f, this.checker.read('vhost', page, f, g));
      await sched.yield(t, 'vhost copy through map');
      if (write) this.mm.ev(t, 'vhost map write', page, f, this.checker.write('vhost', page, f, g));
      else this.mm.ev(t, 'vhost map read', page, f, this.checker.read('vhost', page, f, g));
      this.accessSeq.writeEnd();
      return;
    }
    this.accessSeq.writeEnd();
    // Slow path: copy_to/from_user() through the primary MMU, then try to rebuild the map.
    stats.vhostSlow++;
    if (!this.mm.get()) return;
    try {
      await this.mm.cpuAccess(t, page, write, 'vhost');
      await this.prefetch(t, ring);
    } finally {
      this.mm.put();
    }
  }

  /** vhost_map_prefetch(): GUP the ring's pages and install the map unless it collided. */
  private async prefetch(t: Task, ring: VhostRing): Promise<void> {
    if (ring.mapped || this.invalidateCount > 0) return;
    const seq = this.mapSeq.readBegin();
    const frames: number[] = [];
    const gens: number[] = [];
    const writable: boolean[] = [];
    for (let i = 0; i < ring.npages; i++) {
      const r = await this.mm.gup(t, ring.start + i, true);
      if (typeof r === 'number') return;
      frames.push(r.frame);
      gens.push(r.gen);
      writable.push(r.writable);
    }
    // Under vq->mmu_lock (synchronous here): install only if no invalidation began since seq.
    if (!this.bugs.noPrefetchRetry && this.mapSeq.readRetry(seq)) {
      this.mm.ctx.stats.retries.vhost++;
      this.mm.ev(t, 'vhost prefetch retry', ring.start, ring.npages);
      return;
    }
    if (ring.mapped) return;
    for (let i = 0; i < ring.npages; i++) {
      this.checker.onInstall('vhost', ring.start + i, frames[i]!, gens[i]!, writable[i]!);
      ring.frames[i] = frames[i]!;
      ring.gens[i] = gens[i]!;
    }
    ring.mapped = true;
    this.mm.ev(t, 'vhost map', ring.start, ring.npages);
  }

  // ---- checker view ------------------------------------------------------------------------

  forEachTranslation(fn: TranslationVisitor): void {
    for (const r of this.rings) {
      if (!r.mapped) continue;
      for (let i = 0; i < r.npages; i++) fn(r.start + i, r.frames[i]!, r.gens[i]!, true);
    }
  }

  forEachTranslationIn(start: number, end: number, fn: TranslationVisitor): void {
    for (const r of this.rings) {
      if (!r.mapped || r.start >= end || r.start + r.npages <= start) continue;
      for (let i = 0; i < r.npages; i++) {
        const p = r.start + i;
        if (p >= start && p < end) fn(p, r.frames[i]!, r.gens[i]!, true);
      }
    }
  }
}
