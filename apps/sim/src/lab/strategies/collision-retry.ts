import { faultWithRetry } from '@mmukit/fault-retry';
import { type IntervalNotifier, invalidateOps } from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';
import { faultLock, notifierLock } from '../sched-lock.js';
import type { StrategyFactory } from '../strategy.js';

/** Pages per interval subscription (one per "buffer" of the device, as HMM's dmirror). */
export const SUBSCRIPTION_PAGES = 16;

/**
 * collision-retry (mm/mmu_notifier.c's interval notifier, as HMM mirrors use it): one interval
 * subscription per {@link SUBSCRIPTION_PAGES} pages whose `invalidate` is `invalidateOps` over
 * the device `Mutex` (setSeq + zap under it), and faults through `faultWithRetry` on the
 * subscription: readBegin (waits while its subscription is being invalidated) -> resolve
 * without the lock -> lock -> readRetry -> install. A fault that collided throws its page away
 * and starts over. The invalidation never waits for a fault.
 *
 * Bug `collision-no-read-retry`: the fault's checks always say "no collision".
 */
export const collisionRetry: StrategyFactory = (world, bug) => {
  const { sched, config } = world;
  const mutex = new Mutex();
  // Lock rule: the device mutex orders the fault's readRetry + install against the callback's
  // setSeq + zap; a fault that passes readRetry installs before the zap, or sees the new seq.
  const ops = invalidateOps({
    lock: notifierLock(sched, mutex, 'collision: invalidate takes the device lock'),
    zap: (first, last) => world.zap(first, last),
  });
  const subs: IntervalNotifier[] = [];
  for (let s = 0; s < config.pages; s += SUBSCRIPTION_PAGES) {
    subs.push(world.subs.insertInterval(s, Math.min(SUBSCRIPTION_PAGES, config.pages - s), ops));
  }
  return {
    async fault(t, page) {
      const sub = subs[Math.floor(page / SUBSCRIPTION_PAGES)]!;
      const subscription = {
        tryReadBegin: () => sub.tryReadBegin(),
        readBegin: () => sched.wait(t, sub.readBegin(), 'collision: readBegin waits for the end'),
        checkRetry: (seq: number) => !bug && sub.checkRetry(seq),
        readRetry: (seq: number) => !bug && sub.readRetry(seq), // BUG: never a collision
      };
      const { retries } = await faultWithRetry({
        subscription,
        address: page,
        lock: faultLock(sched, t, mutex, 'collision: fault takes the device lock'),
        resolve: () => world.resolve(t, page),
        install: (frame) => world.install(page, frame),
        backoff: () => sched.yield(t, 'collision: retry'),
      });
      return retries;
    },
  };
};
