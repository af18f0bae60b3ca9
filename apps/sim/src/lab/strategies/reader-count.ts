import type { Task } from '../../scheduler.js';
import { RangeMarks, registerMarking } from '../range-marks.js';
import type { StrategyFactory } from '../strategy.js';

/**
 * reader-count (the 2019 vhost metadata-acceleration series' counter): faults count themselves
 * in (`inside`) around resolve + install; an invalidation marks its range and waits (polling,
 * one scheduling point per look) until no fault is inside at all, then zaps; its end unmarks.
 *
 * New readers: a fault on a marked page is held off (it polls until the mark is gone, each look
 * a retry); a fault on any other page is not, and enters even while a start is waiting. One
 * counter cannot tell readers that began before the start from later ones, so a stream of
 * faults elsewhere keeps the count above zero and holds the start off, without bound.
 *
 * Bug `reader-count-no-wait`: the start marks and zaps without waiting for the count.
 */
export const readerCount: StrategyFactory = (world, bug) => {
  const { sched, config } = world;
  const marks = new RangeMarks(config.pages);
  let inside = 0;
  const drain = async (t: Task): Promise<void> => {
    while (inside > 0) await sched.yield(t, 'reader-count: start waits for readers');
  };
  // BUG(reader-count-no-wait): skips the wait.
  registerMarking(world, marks, (t) => (!bug && inside > 0 ? drain(t) : undefined));
  return {
    async fault(t, page) {
      let retries = 0;
      while (marks.marked(page)) {
        retries++;
        await sched.yield(t, 'reader-count: page held off');
      }
      // Ordering rule: the look at the mark and `inside++` are one turn (no scheduling point
      // between them), and a start marks before it looks at `inside`: every fault either saw
      // the mark or is counted when the start looks.
      inside++;
      try {
        world.install(page, await world.resolve(t, page));
      } finally {
        inside--;
      }
      return retries;
    },
  };
};
