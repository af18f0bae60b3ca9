import {
  type FaultOptions,
  faultWithRetry,
  InvalidationTracker,
  kvmNotifierOps,
  type UserLock,
} from '@mmukit/fault-retry';
import { Mutex } from '@mmukit/seqcount';
import { faultLock } from '../sched-lock.js';
import type { StrategyFactory } from '../strategy.js';

/**
 * kvm-retry (virt/kvm/kvm_main.c): an `InvalidationTracker` (sequence, in-progress count,
 * merged range) kept by `kvmNotifierOps` registered as a classic subscriber (begin + rangeAdd
 * + zap at the start, end at the end, under mmu_lock, one memslot over every page), and faults
 * through `faultWithRetry` with the tracker and the page as gfn: snapshot -> resolve without
 * the lock -> lock -> retryGfn -> install. While an invalidation of its page is in progress a
 * fault retries (polls) instead of waiting; the invalidation never waits for a fault.
 *
 * Bug `kvm-ignore-in-progress`: the fault's checks compare the sequence only.
 */
export const kvmRetry: StrategyFactory = (world, bug) => {
  const { sched, config } = world;
  const tracker = new InvalidationTracker();
  const mutex = new Mutex();
  // Lock rule: mmu_lock is a spinlock: every holder (the start's begin + rangeAdd + zap, the
  // end, a fault's retryGfn + install) holds it within one turn, never across a scheduling
  // point, so the notifier side always finds it free. Finding it held means that rule broke.
  const mmuLock: UserLock = {
    tryLock: () => mutex.tryLock(),
    lock: () => {
      throw new Error('kvm-retry: mmu_lock found held (a holder slept holding it)');
    },
    unlock: () => mutex.unlock(),
  };
  world.subs.register(
    kvmNotifierOps({
      tracker,
      lock: mmuLock,
      memslots: [{ userspaceAddr: 0, baseGfn: 0, npages: config.pages }],
      zap: (gfnStart, gfnEnd) => world.zap(gfnStart, gfnEnd - 1),
    }),
  );
  // BUG(kvm-ignore-in-progress): a change of the sequence only shows once the end ran.
  const source: FaultOptions<number>['tracker'] = bug
    ? {
        snapshot: () => tracker.snapshot(),
        retryGfn: (seq) => seq !== tracker.seq,
        retryGfnUnsafe: (seq) => seq !== tracker.seq,
      }
    : tracker;
  return {
    async fault(t, page) {
      const { retries } = await faultWithRetry({
        tracker: source,
        gfn: page,
        lock: faultLock(sched, t, mutex, 'kvm: fault takes mmu_lock'),
        resolve: () => world.resolve(t, page),
        install: (frame) => world.install(page, frame),
        backoff: () => sched.yield(t, 'kvm: retry'),
      });
      return retries;
    },
  };
};
