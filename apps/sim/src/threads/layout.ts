import { SharedInvalidationTracker, SharedMmuLock } from '@mmukit/fault-retry';

/** What a vCPU worker counts (one row of `stats` per worker). */
export const STAT = { accesses: 0, faults: 1, retries: 2 } as const;
const STATS_PER_WORKER = 3;

/** Control words: `stop` is set by the main thread when the vCPUs are to finish. */
const CTL_STOP = 0;

/**
 * The memory the main thread and the vCPU workers share, as posted to a worker. The guest's one
 * memslot maps guest frame g to host page g, so one index addresses both tables.
 */
export interface SharedWorld {
  /** kvm->mmu_lock and the invalidation tracker (`mmu_invalidate_seq`, in-progress count, range). */
  lock: SharedArrayBuffer;
  tracker: SharedArrayBuffer;
  /** The primary page table: host page -> frame (frames are never reused: a change is a new one). */
  pte: SharedArrayBuffer;
  /** The shadow page table: guest frame -> frame, or -1. */
  spte: SharedArrayBuffer;
  /** Counters per worker ({@link STAT}) and the control words. */
  stats: SharedArrayBuffer;
  control: SharedArrayBuffer;
  pages: number;
}

/** Typed views of a {@link SharedWorld}, on whichever thread. */
export interface WorldViews {
  lock: SharedMmuLock;
  tracker: SharedInvalidationTracker;
  pte: Int32Array;
  spte: Int32Array;
  stats: Int32Array;
  control: Int32Array;
  pages: number;
}

/** A new world of `pages` pages, every page mapped to its own frame, nothing in the shadow. */
export function makeWorld(pages: number, workers: number): SharedWorld {
  const world: SharedWorld = {
    lock: SharedMmuLock.create().buffer,
    tracker: SharedInvalidationTracker.create().buffer,
    pte: new SharedArrayBuffer(pages * 4),
    spte: new SharedArrayBuffer(pages * 4),
    stats: new SharedArrayBuffer(workers * STATS_PER_WORKER * 4),
    control: new SharedArrayBuffer(4),
    pages,
  };
  const v = views(world);
  for (let p = 0; p < pages; p++) v.pte[p] = p + 1;
  v.spte.fill(-1);
  return world;
}

/** The views of `world` (call on each thread). */
export function views(world: SharedWorld): WorldViews {
  return {
    lock: SharedMmuLock.from(world.lock),
    tracker: SharedInvalidationTracker.from(world.tracker),
    pte: new Int32Array(world.pte),
    spte: new Int32Array(world.spte),
    stats: new Int32Array(world.stats),
    control: new Int32Array(world.control),
    pages: world.pages,
  };
}

/** Adds `n` to worker `w`'s counter `stat`. */
export function count(v: WorldViews, w: number, stat: number, n = 1): void {
  Atomics.add(v.stats, w * STATS_PER_WORKER + stat, n);
}

/** Worker `w`'s counter `stat`. */
export function counted(v: WorldViews, w: number, stat: number): number {
  return Atomics.load(v.stats, w * STATS_PER_WORKER + stat);
}

/** Tells the vCPUs to finish. */
export function stop(v: WorldViews): void {
  Atomics.store(v.control, CTL_STOP, 1);
}

/** Whether the vCPUs are to finish. */
export function stopping(v: WorldViews): boolean {
  return Atomics.load(v.control, CTL_STOP) !== 0;
}
