import { Srcu } from '@mmukit/seqcount';
import { RangeMarks, registerMarking } from '../range-marks.js';
import type { StrategyFactory } from '../strategy.js';

/**
 * grace-period (SRCU, as vhost's final design and the classic notifier's unregister use it):
 * a fault is a read-side section of an `Srcu` around its resolve + install; an invalidation
 * marks its range, so faults that enter later and find their page marked leave and poll
 * (each look a retry), then `synchronize()` waits for the sections that were inside when it
 * was called (not for later ones: faults elsewhere cannot hold it off), then zaps; its end
 * unmarks. A fault that entered before the mark is never thrown away: the start waits for it.
 *
 * Bug `grace-period-no-synchronize`: the start marks and zaps without the grace period.
 */
export const gracePeriod: StrategyFactory = (world, bug) => {
  const { sched, config } = world;
  const marks = new RangeMarks(config.pages);
  const srcu = new Srcu();
  // BUG(grace-period-no-synchronize): skips the grace period.
  registerMarking(world, marks, (t) =>
    bug ? undefined : sched.wait(t, srcu.synchronize(), 'grace-period: synchronize'),
  );
  return {
    async fault(t, page) {
      for (let retries = 0; ; retries++) {
        // Ordering rule (publish, then wait for readers): a fault enters its section before it
        // looks at the mark, and a start marks before it calls synchronize(): a fault that
        // missed the mark was inside when synchronize() was called, so the start waits for it.
        const token = srcu.readLock();
        if (!marks.marked(page)) {
          try {
            world.install(page, await world.resolve(t, page));
          } finally {
            srcu.readUnlock(token);
          }
          return retries;
        }
        srcu.readUnlock(token);
        await sched.yield(t, 'grace-period: page held off');
      }
    },
  };
};
