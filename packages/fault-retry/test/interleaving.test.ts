import { Mutex } from 'async-mutex';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FaultTracker,
  faultWithRetry,
  InvalidationTracker,
  type InvalidationTrackerLike,
  type MmuLock,
  SharedInvalidationTracker,
  SharedMmuLock,
} from '../src/index.js';
import { NoHullTracker } from './broken-trackers.js';

/**
 * Faults race invalidations under fast-check's scheduler, which picks the order in which every
 * scheduled step resumes. Each invalidation does what KVM's notifier does: lock, begin +
 * rangeAdd + zap the secondary mappings of its range, unlock; change the primary (backing) pages
 * of the range; lock, end, unlock. The oracle: at install time, under the lock, the page being
 * installed is the current backing page of its gfn, and at the end every secondary mapping
 * equals the backing page.
 */

const GFNS = 6;

type FaultPath = (args: {
  tracker: InvalidationTrackerLike;
  lock: MmuLock;
  gfn: number;
  resolve: () => Promise<number>;
  install: (page: number) => void;
  backoff: () => Promise<void>;
}) => Promise<unknown>;

/** The real thing. */
const libraryFault: FaultPath = ({ tracker, lock, gfn, resolve, install, backoff }) =>
  faultWithRetry({ tracker, lock, gfn, resolve, install, backoff, maxRetries: 1000 });

/** Negative control: the same loop with a tracker whose checks always pass. */
const uncheckedFault: FaultPath = (args) => {
  const blind: FaultTracker = {
    snapshot: () => args.tracker.snapshot(),
    retryGfn: () => false,
    retryGfnUnsafe: () => false,
  };
  return libraryFault({ ...args, tracker: blind as InvalidationTrackerLike });
};

/** Negative control: snapshots the sequence after resolving instead of before. */
const lateSnapshotFault: FaultPath = async ({ tracker, lock, gfn, resolve, install, backoff }) => {
  for (;;) {
    const page = await resolve();
    const seq = tracker.snapshot();
    const release = await lock.acquire();
    const stale = tracker.retryGfn(seq, gfn);
    if (!stale) install(page);
    release();
    if (!stale) return;
    await backoff();
  }
};

const scenario = fc.record({
  faults: fc.array(fc.nat(GFNS - 1), { minLength: 1, maxLength: 4 }),
  invalidations: fc.array(
    fc.record({ start: fc.nat(GFNS - 1), length: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 1, maxLength: 3 },
  ),
});

interface Setup {
  name: string;
  tracker: () => InvalidationTrackerLike;
  lock: () => MmuLock;
}
const setups: Setup[] = [
  {
    name: 'InvalidationTracker + async-mutex',
    tracker: () => new InvalidationTracker(),
    lock: () => new Mutex(),
  },
  {
    name: 'SharedInvalidationTracker + SharedMmuLock',
    tracker: () => SharedInvalidationTracker.create(),
    lock: () => SharedMmuLock.create(),
  },
];

function raceProperty(setup: Setup, fault: FaultPath, stats = { faults: 0, retries: 0 }) {
  return fc.asyncProperty(fc.scheduler(), scenario, async (s, { faults, invalidations }) => {
    const tracker = setup.tracker();
    const lock = setup.lock();
    const step = (label: string) => s.schedule(Promise.resolve(), label);
    let nextPage = 100;
    const backing = Array.from({ length: GFNS }, () => nextPage++);
    const secondary = new Map<number, number>();
    const staleInstalls: string[] = [];

    const faultTask = async (gfn: number) => {
      await step(`fault ${gfn}: start`);
      const result = await fault({
        tracker,
        lock,
        gfn,
        resolve: async () => {
          await step(`fault ${gfn}: resolving`);
          const page = backing[gfn]!;
          await step(`fault ${gfn}: resolved ${page}`);
          return page;
        },
        install: (page) => {
          if (page !== backing[gfn]) staleInstalls.push(`gfn ${gfn}: ${page} != ${backing[gfn]}`);
          secondary.set(gfn, page);
        },
        backoff: () => step(`fault ${gfn}: retry`),
      });
      stats.faults++;
      if (typeof result === 'object' && result !== null && 'retries' in result) {
        stats.retries += result.retries as number;
      }
    };

    const invalidationTask = async ({ start, length }: { start: number; length: number }) => {
      const end = Math.min(start + length, GFNS);
      await step(`inv [${start}, ${end}): start`);
      let release = await lock.acquire();
      tracker.begin();
      tracker.rangeAdd(start, end);
      for (let g = start; g < end; g++) secondary.delete(g); // zap
      release();
      await step(`inv [${start}, ${end}): changing pages`);
      for (let g = start; g < end; g++) backing[g] = nextPage++;
      await step(`inv [${start}, ${end}): ending`);
      release = await lock.acquire();
      tracker.end();
      release();
    };

    await s.waitFor(
      Promise.all([...faults.map(faultTask), ...invalidations.map(invalidationTask)]),
    );
    expect(staleInstalls).toEqual([]);
    for (const [gfn, page] of secondary) expect(page).toBe(backing[gfn]);
    expect(tracker.inProgress).toBe(0);
  });
}

describe.each(setups)('faults racing invalidations (fast-check scheduler): $name', (setup) => {
  it('never installs a page that a later-started invalidation replaced', async () => {
    const stats = { faults: 0, retries: 0 };
    await fc.assert(raceProperty(setup, libraryFault, stats), {
      numRuns: 300,
    });
    // The races were real: many faults lost at least once and retried.
    expect(stats.retries).toBeGreaterThan(stats.faults / 10);
  });

  describe('negative controls: the same property catches broken fault paths', () => {
    it('catches a fault path that skips the check', async () => {
      const out = await fc.check(raceProperty(setup, uncheckedFault), { numRuns: 300, seed: 1 });
      expect(out.failed).toBe(true);
    });

    it('catches a fault path that snapshots after resolving', async () => {
      const out = await fc.check(raceProperty(setup, lateSnapshotFault), { numRuns: 300, seed: 2 });
      expect(out.failed).toBe(true);
    });

    it('catches a tracker that keeps only the last range instead of the hull', async () => {
      const out = await fc.check(
        raceProperty({ ...setup, tracker: () => new NoHullTracker() }, libraryFault),
        {
          numRuns: 500,
          seed: 3,
        },
      );
      expect(out.failed).toBe(true);
    });
  });
});
