import {
  FaultRetryLimitError,
  faultWithRetry,
  type SubscriptionFaultOptions,
} from '@mmukit/fault-retry';
import { type IntervalNotifier, invalidateOps, type NotifierLock } from '@mmukit/mmu-notifier';
import { Srcu } from '@mmukit/seqcount';
import type { Checker, SecondaryView, TranslationVisitor } from '../checker.js';
import { SimMutex } from '../locks.js';
import { type AddressSpace, PAGE_SIZE, type PageRef } from '../primary/mm.js';
import type { Prng } from '../prng.js';
import { type Task, WaitQueue } from '../scheduler.js';
import type { SecondaryFactory } from '../secondary-api.js';
import { FAULT_BEGIN, FAULT_END, FAULT_GAVE_UP } from '../trace.js';
import {
  Errno,
  errnoOf,
  faultSubscription,
  giveUpSubscription,
  PreemptibleLock,
  teardownOnTask,
} from './glue.js';

/** Deliberate bugs for the checker's negative controls. */
export interface VhostBugs {
  /** invalidateRangeStart clears the maps but does not wait for the worker to leave them. */
  noWait?: boolean;
  /** The map prefetch installs without readRetry (a map can outlive its invalidation). */
  noPrefetchRetry?: boolean;
}

const SYNC_LABEL = 'vhost: synchronize_srcu';

/** A worker's map prefetch: the ring it maps, and the faultWithRetry options made once. */
interface Prefetch {
  ring: VhostRing;
  options: SubscriptionFaultOptions<PageRef[]>;
}

/** One ring: `npages` virtual pages from `start`, and its cached map (a PageRef per page). */
export interface VhostRing {
  start: number;
  npages: number;
  mapped: boolean;
  map: PageRef[];
}

/**
 * A vhost-style accessor: the worker reads and writes a few rings (vring desc/avail/used)
 * through cached kernel mappings of their pages instead of copy_to/from_user(), as the 2019
 * "vhost: access vq metadata through kernel virtual address" series did, with the
 * synchronization that thread concluded (seeds 000/001):
 *
 * - `srcu` (the wait-for-readers the patch's vq->seq stood for): the worker brackets every use
 *   of a map with readLock()/readUnlock(). The notifier clears the map pointers, then waits with
 *   synchronize() for every reader that was inside before returning: after that nobody can
 *   still be touching the old pages, and a worker entering later finds no map (it does not delay
 *   the wait). A seqlock-style retry alone is not enough (Gunthorpe: the invalidation must
 *   block until the other thread leaves its critical section); this wait is that block.
 * - The rebuild of a map (vhost_map_prefetch: get_user_pages + install) is a collision-retry
 *   on an interval subscription over the rings: readBegin before GUP, readRetry under the vq
 *   mutex before installing; the invalidate callback (`invalidateOps`) calls setSeq(curSeq) and
 *   clears the maps under that mutex. (The mmu interval notifier is the "core service"
 *   Gunthorpe mentions in seed 000; it was merged a few months after that thread.)
 * - A non-blockable invalidation (the OOM reaper) that finds the worker inside (a reader in
 *   `srcu`) returns false before changing anything: EAGAIN, allowed for interval
 *   subscriptions, which have no end to pair.
 */
export class VhostDev implements SecondaryView {
  readonly name = 'vhost';
  readonly rings: VhostRing[];
  readonly srcu = new Srcu();
  /** The vq mutex, as the packages' helpers take it. */
  private readonly vq: NotifierLock;
  readonly sub: IntervalNotifier;
  /** Per worker task: its prefetch state (see prefetchOf). */
  private readonly prefetches = new Map<Task, Prefetch>();
  /** Tasks in synchronize(), woken when a reader leaves. */
  private readonly srcuWaiters: WaitQueue;
  /** synchronize() calls that had to wait, so far; and how many `srcu` still has pending. */
  private syncs = 0;
  private syncsPending = 0;
  /** Read-side sections inside now (ids), to check each grace period against. */
  private readonly sections = new Set<number>();
  private sectionIds = 0;

  constructor(
    private readonly mm: AddressSpace,
    private readonly checker: Checker,
    rings: { start: number; npages: number }[],
    private readonly bugs: VhostBugs = {},
  ) {
    this.rings = rings.map(({ start, npages }) => ({ start, npages, mapped: false, map: [] }));
    const lo = Math.min(...rings.map((r) => r.start));
    const hi = Math.max(...rings.map((r) => r.start + r.npages));
    this.vq = new SimMutex(mm.ctx.sched, 'vhost.vq_mutex').notifierLock();
    this.srcuWaiters = new WaitQueue(mm.ctx.sched);
    const { sched, stats } = mm.ctx;
    const ops = invalidateOps({ lock: this.vq, zap: (a, b) => this.clear(a, b + 1) }); // setSeq too
    const invalidate: typeof ops.invalidate = (sub, range, curSeq) => {
      mm.audit.called(sub, range, 'vhost');
      const [t, s, e] = [sched.current!, range.start / PAGE_SIZE, range.end / PAGE_SIZE];
      const inside = this.srcu.readers > 0 && !bugs.noWait; // BUG(vhost-no-wait): never waits
      if (inside && !range.blockable) {
        mm.audit.refuse(range);
        mm.ev(t, 'vhost invalidate: worker inside, EAGAIN', s, e);
        return false; // we may not sleep: EAGAIN, before changing anything
      }
      const ok = ops.invalidate(sub, range, curSeq); // under the vq mutex
      if (ok === false) mm.audit.refuse(range); // the vq mutex was taken: EAGAIN
      if (!inside) return ok;
      stats.waits.vhostReader++;
      mm.ev(t, 'vhost invalidate: wait for the worker', s, e);
      return Promise.resolve(ok)
        .then(() => this.synchronize(t))
        .then(() => true);
    };
    this.sub = mm.subs.insertInterval(lo * PAGE_SIZE, (hi - lo) * PAGE_SIZE, { invalidate });
  }

  /**
   * synchronize_srcu() by task `t`: `srcu.synchronize()`, and `t` blocks until the readers inside
   * now have left. The worker wakes it when it leaves its section (readUnlock below), at the
   * moment `srcu` retires the wait, and `t` then takes the package's promise (settled by then,
   * within microtasks). With no reader inside, `t` still blocks for a turn of another task.
   */
  private async synchronize(t: Task): Promise<void> {
    const inside = this.srcu.readers > 0;
    const before = inside ? [...this.sections] : [];
    const done = this.srcu.synchronize();
    if (!inside) {
      await this.mm.ctx.sched.pass(t, SYNC_LABEL); // a grace period, with nobody to wait for
    } else {
      // Waits are retired in the order they began: ours is done once no more of them are
      // pending than began after it.
      const ticket = this.syncs++;
      this.syncsPending = this.srcu.waiting;
      while (this.srcu.waiting > this.syncs - ticket - 1)
        await this.srcuWaiters.wait(t, SYNC_LABEL);
    }
    await done;
    // The grace period: every read-side section that was inside when it began has left.
    for (const section of before) {
      if (this.sections.has(section)) {
        this.checker.fail(
          `vhost: synchronize_srcu returned while a reader inside before it began is still inside`,
        );
      }
    }
  }

  /** srcu_read_lock(): the token, and the section counted as inside until readUnlock. */
  private readLock(): [number, number] {
    const section = ++this.sectionIds;
    this.sections.add(section);
    return [this.srcu.readLock(), section];
  }

  /** srcu_read_unlock(), and the wake-up of the synchronize() calls it completes. */
  private readUnlock([reader, section]: [number, number]): void {
    this.sections.delete(section);
    this.srcu.readUnlock(reader);
    if (this.srcu.waiting < this.syncsPending) {
      this.syncsPending = this.srcu.waiting;
      this.srcuWaiters.wakeAll();
    }
  }

  /** Drops the maps of the rings overlapping the bytes [start, end). */
  private clear(start: number, end: number): void {
    const [s, e] = [start / PAGE_SIZE, end / PAGE_SIZE];
    for (const r of this.rings) if (r.start < e && r.start + r.npages > s) r.mapped = false;
  }

  /** vhost_dev_cleanup(): teardownInterval (remove + drop the maps in one hold of the vq lock). */
  async close(t: Task): Promise<void> {
    const zap = (): void => this.clear(0, Number.POSITIVE_INFINITY);
    await teardownOnTask(this.mm, t, this.sub, { lock: this.vq, zap });
  }

  /** One worker access (vhost_get_user/vhost_put_user) to a page of a ring. */
  async access(t: Task, ring: VhostRing, index: number, write: boolean): Promise<void> {
    const { sched, stats } = this.mm.ctx;
    const page = ring.start + index;
    const reader = this.readLock(); // the worker is inside: notifiers must wait for it
    if (ring.mapped) {
      const { frame: f, gen: g } = ring.map[index]!;
      stats.vhostFast++;
      stats.accesses.vhost += 2;
      // Read the descriptor, then (after a scheduling point: the copy takes time) update it
      // through the same mapping.
      this.mm.ev(t, 'vhost map read', page, f, this.checker.read('vhost', page, f, g));
      await sched.yield(t, 'vhost copy through map');
      if (write) this.mm.ev(t, 'vhost map write', page, f, this.checker.write('vhost', page, f, g));
      else this.mm.ev(t, 'vhost map read', page, f, this.checker.read('vhost', page, f, g));
      this.readUnlock(reader);
      return;
    }
    this.readUnlock(reader);
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

  /**
   * vhost_map_prefetch(): GUP the ring's pages and install the map unless an invalidation
   * collided (faultWithRetry on the subscription, the vq mutex as its lock). A collision or a
   * failed GUP gives up: the slow path goes on, and the next slow access prefetches again.
   */
  private async prefetch(t: Task, ring: VhostRing): Promise<void> {
    if (ring.mapped) return;
    const c = this.prefetchOf(t);
    c.ring = ring;
    this.mm.note(t, FAULT_BEGIN.vhostMap, ring.start, ring.npages);
    let result = 0;
    try {
      await faultWithRetry(c.options);
    } catch (error) {
      if (error instanceof FaultRetryLimitError) {
        this.mm.ctx.stats.retries.vhost++;
        this.mm.ev(t, 'vhost prefetch retry', ring.start, ring.npages);
        result = FAULT_GAVE_UP;
      } else result = errnoOf(error); // a failed GUP (anything else is rethrown)
    }
    this.mm.note(t, FAULT_END, result);
  }

  /**
   * Task `t`'s prefetch state: the ring it maps and the faultWithRetry options, made at its first
   * prefetch and reused (one prefetch at a time per task; faultWithRetry reads the options when
   * called), so a prefetch makes no closures.
   */
  private prefetchOf(t: Task): Prefetch {
    let c = this.prefetches.get(t);
    if (c !== undefined) return c;
    const sub = faultSubscription(this.mm, t, this.sub, 'vhost: mmu_interval_read_begin');
    const prefetch: Prefetch = {
      ring: this.rings[0]!,
      options: {
        // BUG(vhost-no-prefetch-retry): no check at all (neither readRetry nor checkRetry).
        subscription: this.bugs.noPrefetchRetry
          ? { readBegin: sub.readBegin, readRetry: () => false }
          : giveUpSubscription(sub),
        lock: new PreemptibleLock(this.mm.ctx.sched, t, this.vq, 'vhost: take the vq mutex'),
        resolve: () => this.resolveRing(t, prefetch.ring),
        install: (refs) => this.installRing(t, prefetch.ring, refs),
        maxRetries: 0,
      },
    };
    c = prefetch;
    this.prefetches.set(t, c);
    return c;
  }

  /** The prefetch's resolve(): GUP of every page of the ring (errors thrown as Errno). */
  private async resolveRing(t: Task, ring: VhostRing): Promise<PageRef[]> {
    const refs: PageRef[] = [];
    for (let i = 0; i < ring.npages; i++) {
      const got = this.mm.gup(t, ring.start + i, true);
      const r = got instanceof Promise ? await got : got;
      if (typeof r === 'number') throw Errno.of(r);
      refs.push(r);
    }
    return refs;
  }

  /** The prefetch's install(), under the vq mutex after readRetry passed. */
  private installRing(t: Task, ring: VhostRing, refs: PageRef[]): void {
    for (const r of refs) this.checker.onInstall('vhost', r.page, r.frame, r.gen, r.writable);
    ring.map = refs;
    ring.mapped = true;
    this.mm.ev(t, 'vhost map', ring.start, ring.npages);
  }

  // ---- checker view ------------------------------------------------------------------------

  forEachTranslation(fn: TranslationVisitor): void {
    this.forEachTranslationIn(0, Number.POSITIVE_INFINITY, fn);
  }

  forEachTranslationIn(start: number, end: number, fn: TranslationVisitor): void {
    for (const r of this.rings) {
      if (!r.mapped || r.start >= end || r.start + r.npages <= start) continue;
      for (const x of r.map) if (x.page >= start && x.page < end) fn(x.page, x.frame, x.gen, true);
    }
  }
}

/**
 * The vhost device as a secondary of the SecondaryFactory interface, as the scenario runs it:
 * its three rings at the start of the context's `ring` region, `workers` worker tasks (`vhost`,
 * `vhost1`, ...) each accessing one random ring page per turn (always the first ring when
 * `focus` is set), and vhost_dev_cleanup() as the teardown once the last worker stopped. A
 * built-in: it reports to the checker, and pins the address space, itself (not through the
 * context), so the scenario spawns its tasks unpinned.
 */
export function vhostSecondary(
  mm: AddressSpace,
  checker: Checker,
  bugs: VhostBugs | undefined,
  workers: number,
  focus: number,
): SecondaryFactory {
  return (ctx) => {
    const base = ctx.regions.find((r) => r.name === 'ring')!.start;
    const dev = new VhostDev(
      mm,
      checker,
      [
        { start: base, npages: 2 },
        { start: base + 2, npages: 1 },
        { start: base + 4, npages: 2 },
      ],
      bugs,
    );
    // The running task: the turns and the teardown run as the worker they belong to.
    const running = (): Task => mm.ctx.sched.current!;
    return {
      name: dev.name,
      view: dev,
      tasks: Array.from({ length: workers }, (_, i) => ({
        name: i === 0 ? 'vhost' : `vhost${i}`,
        turn: (r: Prng) => {
          const ring = focus > 0 ? dev.rings[0]! : r.pick(dev.rings);
          return dev.access(running(), ring, r.int(ring.npages), r.chance(0.5));
        },
      })),
      // vhost_dev_cleanup() once every worker has stopped: the subscription goes away.
      teardown: () => dev.close(running()),
    };
  };
}
