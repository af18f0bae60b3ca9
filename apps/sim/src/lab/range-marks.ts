import type { Task } from '../scheduler.js';
import { running } from './sched-lock.js';
import type { LabWorld } from './world.js';

/**
 * Per-page counts of the invalidations that hold the page off (reader-count and grace-period):
 * a start marks its range before it waits for the readers, the end unmarks it. Overlapping
 * invalidations count, so a page is free again only when the last of them ended.
 */
export class RangeMarks {
  private readonly marks: Int32Array;

  constructor(pages: number) {
    this.marks = new Int32Array(pages);
  }

  /** Marks `[first, last]`. */
  mark(first: number, last: number): void {
    for (let p = first; p <= last; p++) this.marks[p]!++;
  }

  /** Unmarks `[first, last]`. */
  unmark(first: number, last: number): void {
    for (let p = first; p <= last; p++) this.marks[p]!--;
  }

  /** True while an invalidation holds `page` off. */
  marked(page: number): boolean {
    return this.marks[page]! > 0;
  }
}

/**
 * Registers the classic subscriber of a marking strategy (reader-count, grace-period): a start
 * marks its range (faults that come later see the mark and are held off), then `waitForReaders`
 * (the strategy's wait for the faults already inside), then zaps; the end unmarks. The mark
 * comes before the wait: a fault that missed it is one the wait covers.
 */
export function registerMarking(
  world: LabWorld,
  marks: RangeMarks,
  waitForReaders: (t: Task) => Promise<void> | undefined,
): void {
  world.subs.register({
    async invalidateRangeStart(_sub, range) {
      marks.mark(range.start, range.end - 1);
      const wait = waitForReaders(running(world.sched));
      if (wait !== undefined) await wait;
      world.zap(range.start, range.end - 1);
      return true;
    },
    invalidateRangeEnd(_sub, range) {
      marks.unmark(range.start, range.end - 1);
    },
  });
}
