import { Mutex } from '@mmukit/seqcount';
import { lockFor, running } from '../sched-lock.js';
import type { StrategyFactory } from '../strategy.js';

/**
 * mutex (the pre-interval-notifier drivers, e.g. amdgpu's userptr lock taken in
 * invalidate_range_start and dropped in invalidate_range_end): one device `Mutex`. A fault
 * holds it across its resolve and install; an invalidation takes it in its start (waiting for
 * the fault inside to finish), zaps, and keeps it until its end, so no fault runs while a
 * window is open. Invalidations that overlap in time share one hold: the first start takes
 * the mutex, the last end releases it. Nothing is ever retried or thrown away; faults are
 * serialized among themselves and behind every invalidation.
 *
 * Bug `mutex-install-after-unlock`: the fault drops the mutex after its resolve and installs
 * after a scheduling point, outside the lock.
 */
export const mutexStrategy: StrategyFactory = (world, bug) => {
  const { sched } = world;
  const mutex = new Mutex();
  // Lock rule: the mutex is held by one fault (resolve + install) or by the invalidations
  // inside their windows, together (`held` counts them; 0 -> 1 takes it, 1 -> 0 releases it).
  let held = 0;
  world.subs.register({
    async invalidateRangeStart(_sub, range) {
      if (held === 0) await lockFor(sched, running(sched), mutex, 'mutex: start waits for it');
      held++;
      world.zap(range.start, range.end - 1);
      return true;
    },
    invalidateRangeEnd() {
      held--;
      if (held === 0) mutex.unlock();
    },
  });
  return {
    async fault(t, page) {
      await sched.yield(t, 'mutex: fault asks for the lock');
      await lockFor(sched, t, mutex, 'mutex: fault waits for it');
      const frame = await world.resolve(t, page);
      if (bug) {
        mutex.unlock(); // BUG: the install is outside the lock
        await sched.yield(t, 'mutex: after the unlock');
        world.install(page, frame);
        return 0;
      }
      world.install(page, frame);
      mutex.unlock();
      return 0;
    },
  };
};
