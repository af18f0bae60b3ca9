import type { IntervalNotifier, MmuNotifierRange } from '@mmukit/mmu-notifier';
import { SeqCount } from '@mmukit/seqcount';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { type AddressSpace, PAGE_SIZE } from '../primary/mm.js';
import type { Task } from '../scheduler.js';
import { readBegin } from './read-begin.js';

/** Deliberate bugs for the checker's negative controls. */
export interface VhostBugs {
  /** invalidateRangeStart clears the maps but does not wait for the worker to leave them. */
  noWait?: boolean;
  /** The map prefetch installs without readRetry (a map can outlive its invalidation). */
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
 *   writeBegin()/writeEnd() (one worker per device, so writers are serialized), so "odd" means
 *   "the worker is inside". The notifier clears the map pointers, then waits until the count
 *   is even (readBeginWait()) before returning: after that nobody can still be touching the
 *   old pages. A seqlock-style retry alone is not enough (Gunthorpe: the invalidation must
 *   block until the other thread leaves its critical section); this wait is that block.
 * - The rebuild of a map (vhost_map_prefetch: get_user_pages + install) is a collision-retry
 *   on an interval subscription over the rings: readBegin before GUP, readRetry under the vq
 *   lock before installing; the invalidate callback calls setSeq(curSeq) under that lock.
 *   (The mmu interval notifier is the "core service" Gunthorpe mentions in seed 000; it was
 *   merged a few months after that thread.)
 * - A non-blockable invalidation (the OOM reaper) that finds the worker inside returns false:
 *   EAGAIN, allowed for interval subscriptions, which have no end to pair.
 */
export class VhostDev implements SecondaryView {
  readonly name = 'vhost';
  readonly rings: VhostRing[];
  readonly accessSeq = new SeqCount();
  readonly sub: IntervalNotifier;

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
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const r of rings) {
      lo = Math.min(lo, r.start);
      hi = Math.max(hi, r.start + r.npages);
    }
    this.sub = mm.subs.insertInterval(lo * PAGE_SIZE, (hi - lo) * PAGE_SIZE, {
      invalidate: (sub, range, curSeq) => this.invalidate(sub, range, curSeq),
    });
  }

  /** The invalidate callback (the vq's mmu_lock is implicit: it runs synchronously). */
  private invalidate(
    sub: IntervalNotifier,
    range: MmuNotifierRange,
    curSeq: number,
  ): boolean | Promise<boolean> {
    const { sched, stats } = this.mm.ctx;
    const t = sched.current;
    if (t === null) throw new Error('vhost notifier callback outside any task');
    const s = range.start / PAGE_SIZE;
    const e = range.end / PAGE_SIZE;
    if (!this.accessSeq.writing || this.bugs.noWait) {
      this.clear(sub, s, e, curSeq);
      return true;
    }
    if (!range.blockable) {
      // The worker is inside and we may not sleep: EAGAIN, before changing anything.
      this.mm.ev(t, 'vhost invalidate: worker inside, EAGAIN', s, e);
      return false;
    }
    this.clear(sub, s, e, curSeq);
    stats.waits.vhostReader++;
    this.mm.ev(t, 'vhost invalidate: wait for the worker', s, e, this.accessSeq.sequence);
    return sched
      .wait(t, this.accessSeq.readBeginWait(), 'vhost: wait for map reader')
      .then(() => true);
  }

  private clear(sub: IntervalNotifier, s: number, e: number, curSeq: number): void {
    sub.setSeq(curSeq);
    for (const r of this.rings) if (r.start < e && r.start + r.npages > s) r.mapped = false;
  }

  /** Tears down: drop the maps, then mmu_interval_notifier_remove(). */
  async close(t: Task): Promise<void> {
    for (const r of this.rings) r.mapped = false;
    await this.mm.ctx.sched.wait(t, this.sub.remove(), 'vhost: mmu_interval_notifier_remove');
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
    if (ring.mapped) return;
    const { stats } = this.mm.ctx;
    let seq = readBegin(this.mm.ctx, t, this.sub, 'vhost: mmu_interval_read_begin');
    if (typeof seq !== 'number') seq = await seq;
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
    // Under the vq lock (synchronous here): install only if no invalidation collided.
    if (!this.bugs.noPrefetchRetry && this.sub.readRetry(seq)) {
      stats.retries.vhost++;
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
