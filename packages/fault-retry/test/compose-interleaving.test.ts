import {
  invalidateOps,
  type MmuNotifierRange,
  MmuNotifierSubscriptions,
} from '@mmukit/mmu-notifier';
import { Mutex } from '@mmukit/seqcount';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FaultSubscription,
  faultWithRetry,
  InvalidationTracker,
  type KvmMemslot,
  type KvmNotifierTracker,
  kvmNotifierOps,
} from '../src/index.js';

/**
 * The composed secondaries under fast-check's scheduler, which picks the order in which every
 * scheduled step resumes. The primary MMU is a real mmu-notifier address space: each
 * invalidation is `invalidateRangeStart` (blockable, or non-blockable falling back to blockable
 * on EAGAIN), a change of the backing pages of its range, `invalidateRangeEnd`. Faults go
 * through faultWithRetry(). The oracle: at install time (under the lock) the page installed is
 * the current backing page of its address, and at the end every secondary mapping is current.
 * Each property has a negative control that removes one piece and must be caught.
 */

const PAGES = 6;
const RUNS = 200;

const invalidationArb = fc.record({
  start: fc.nat(PAGES - 1),
  length: fc.integer({ min: 1, max: 3 }),
  nonblock: fc.boolean(),
});
const scenario = fc.record({
  faults: fc.array(fc.nat(PAGES - 1), { minLength: 1, maxLength: 4 }),
  invalidations: fc.array(invalidationArb, { minLength: 1, maxLength: 3 }),
});

type Step = (label: string) => Promise<void>;

/** One invalidation of `[start, start + length)` through the core; `change` runs in between. */
async function invalidate(
  subs: MmuNotifierSubscriptions,
  step: Step,
  { start, length, nonblock }: { start: number; length: number; nonblock: boolean },
  change: (start: number, end: number) => void,
): Promise<void> {
  const end = Math.min(start + length, PAGES);
  const range: MmuNotifierRange = { start, end, event: 'clear', blockable: !nonblock };
  await step(`inv [${start}, ${end}): start`);
  if (!nonblock || !subs.invalidateRangeStartNonblock(range)) {
    if (nonblock) await step(`inv [${start}, ${end}): EAGAIN, blockable now`);
    await subs.invalidateRangeStart(range);
  }
  await step(`inv [${start}, ${end}): changing pages`);
  change(start, end);
  await step(`inv [${start}, ${end}): ending`);
  subs.invalidateRangeEnd(range);
}

// ---- 1. faultWithRetry over an interval subscription ------------------------------------------

type Wrap = (sub: FaultSubscription) => FaultSubscription;
const asIs: Wrap = (sub) => sub;
/** Negative control: the fault never sees a collision (no readRetry, no checkRetry). */
const skipReadRetry: Wrap = (sub) => ({ readBegin: () => sub.readBegin(), readRetry: () => false });

function subscriptionRace(wrap: Wrap, stats = { faults: 0, retries: 0 }) {
  return fc.asyncProperty(fc.scheduler(), scenario, async (s, { faults, invalidations }) => {
    const step: Step = (label) => s.schedule(Promise.resolve(), label);
    const subs = new MmuNotifierSubscriptions({ onWarning: () => {} });
    const lock = new Mutex();
    let nextPage = 100;
    const backing = Array.from({ length: PAGES }, () => nextPage++);
    const secondary = new Map<number, number>();
    const stale: string[] = [];
    const sub = subs.insertInterval(
      0,
      PAGES,
      invalidateOps({
        lock,
        zap: (first, last) => {
          for (let a = first; a <= last; a++) secondary.delete(a);
        },
      }),
    );
    const fault = async (address: number) => {
      await step(`fault ${address}: start`);
      const { retries } = await faultWithRetry({
        subscription: wrap(sub),
        address,
        lock,
        maxRetries: 1000,
        backoff: () => step(`fault ${address}: retry`),
        resolve: async () => {
          await step(`fault ${address}: resolving`);
          const page = backing[address]!;
          await step(`fault ${address}: resolved ${page}`);
          return page;
        },
        install: (page) => {
          if (page !== backing[address]) stale.push(`${address}: ${page} != ${backing[address]}`);
          secondary.set(address, page);
        },
      });
      stats.faults++;
      stats.retries += retries;
    };
    const change = (start: number, end: number) => {
      for (let a = start; a < end; a++) backing[a] = nextPage++;
    };
    await s.waitFor(
      Promise.all([
        ...faults.map(fault),
        ...invalidations.map((inv) => invalidate(subs, step, inv, change)),
      ]),
    );
    expect(stale).toEqual([]);
    for (const [a, page] of secondary) expect(page).toBe(backing[a]);
    expect(subs.activeInvalidateRanges).toBe(0);
  });
}

describe('faultWithRetry over an mmu-notifier interval subscription, racing invalidations', () => {
  it('never installs a stale page', async () => {
    const stats = { faults: 0, retries: 0 };
    await fc.assert(subscriptionRace(asIs, stats), { numRuns: RUNS });
    expect(stats.retries).toBeGreaterThan(stats.faults / 10); // the races were real
  });

  it('negative control: a fault path without readRetry is caught', async () => {
    const out = await fc.check(subscriptionRace(skipReadRetry), { numRuns: RUNS, seed: 11 });
    expect(out.failed).toBe(true);
  });
});

// ---- 2. kvmNotifierOps + faultWithRetry (tracker) ---------------------------------------------

// Host pages [0, 3) are gfns [20, 23); host pages [3, 6) are gfns [0, 3).
const SLOTS: KvmMemslot[] = [
  { userspaceAddr: 0, baseGfn: 20, npages: 3 },
  { userspaceAddr: 3, baseGfn: 0, npages: 3 },
];
/** The host page of `gfn` in `slots`, or undefined if no slot has it. */
function hvaOf(slots: readonly KvmMemslot[], gfn: number): number | undefined {
  for (const s of slots) {
    if (gfn >= s.baseGfn && gfn < s.baseGfn + s.npages) return s.userspaceAddr + gfn - s.baseGfn;
  }
  return undefined;
}
const GFNS = [20, 21, 22, 0, 1, 2];

/** Negative control: the notifier's bookkeeping does nothing (it still zaps). */
const noBookkeeping: KvmNotifierTracker = { begin() {}, rangeAdd() {}, end() {} };

function kvmRace(glueTracker: 'real' | 'none', stats = { faults: 0, retries: 0 }) {
  return fc.asyncProperty(fc.scheduler(), scenario, async (s, { faults, invalidations }) => {
    const step: Step = (label) => s.schedule(Promise.resolve(), label);
    const subs = new MmuNotifierSubscriptions({ onWarning: () => {} });
    const tracker = new InvalidationTracker();
    const lock = new Mutex();
    let nextPage = 100;
    const backing = Array.from({ length: PAGES }, () => nextPage++); // by host page
    const sptes = new Map<number, number>(); // by gfn
    const stale: string[] = [];
    const kvm = kvmNotifierOps({
      tracker: glueTracker === 'real' ? tracker : noBookkeeping,
      lock,
      memslots: SLOTS,
      zap: (gfnStart, gfnEnd) => {
        for (let g = gfnStart; g < gfnEnd; g++) sptes.delete(g);
      },
    });
    subs.register(kvm);
    const fault = async (index: number) => {
      const gfn = GFNS[index]!;
      const hva = hvaOf(SLOTS, gfn)!;
      await step(`fault gfn ${gfn}: start`);
      const { retries } = await faultWithRetry({
        tracker,
        gfn,
        lock,
        maxRetries: 1000,
        backoff: () => step(`fault gfn ${gfn}: retry`),
        resolve: async () => {
          await step(`fault gfn ${gfn}: resolving`);
          const page = backing[hva]!;
          await step(`fault gfn ${gfn}: resolved ${page}`);
          return page;
        },
        install: (page) => {
          if (page !== backing[hva]) stale.push(`gfn ${gfn}: ${page} != ${backing[hva]}`);
          sptes.set(gfn, page);
        },
      });
      stats.faults++;
      stats.retries += retries;
    };
    const change = (start: number, end: number) => {
      for (let a = start; a < end; a++) backing[a] = nextPage++;
    };
    await s.waitFor(
      Promise.all([
        ...faults.map(fault),
        ...invalidations.map((inv) => invalidate(subs, step, inv, change)),
      ]),
    );
    expect(stale).toEqual([]);
    for (const [gfn, page] of sptes) expect(page).toBe(backing[hvaOf(SLOTS, gfn)!]);
    expect(tracker.inProgress).toBe(0);
    expect(kvm.activeInvalidations).toBe(0);
  });
}

describe('kvmNotifierOps registered with mmu-notifier, faults racing invalidations', () => {
  it('never installs a stale page; the tracker and the count end balanced', async () => {
    const stats = { faults: 0, retries: 0 };
    await fc.assert(kvmRace('real', stats), { numRuns: RUNS });
    expect(stats.retries).toBeGreaterThan(stats.faults / 10);
  });

  it('negative control: a notifier that zaps without begin()/rangeAdd()/end() is caught', async () => {
    const out = await fc.check(kvmRace('none'), { numRuns: RUNS, seed: 12 });
    expect(out.failed).toBe(true);
  });
});

// ---- 3. memslot changes racing invalidations and faults ---------------------------------------

// At first only host pages [0, 3) are guest memory (gfns [20, 23)); a memslot change adds host
// pages [3, 6) as gfns [0, 3) while invalidations of any host pages run.
const FIRST: KvmMemslot = { userspaceAddr: 0, baseGfn: 20, npages: 3 };
const ADDED: KvmMemslot = { userspaceAddr: 3, baseGfn: 0, npages: 3 };

function memslotRace(waits: boolean) {
  return fc.asyncProperty(
    fc.scheduler(),
    scenario,
    fc.nat(4),
    async (s, { faults, invalidations }, changeAfter) => {
      const step: Step = (label) => s.schedule(Promise.resolve(), label);
      const subs = new MmuNotifierSubscriptions({ onWarning: () => {} });
      const tracker = new InvalidationTracker();
      const lock = new Mutex();
      let nextPage = 100;
      const backing = Array.from({ length: PAGES }, () => nextPage++);
      const sptes = new Map<number, number>();
      const stale: string[] = [];
      const memslots: KvmMemslot[] = [FIRST];
      const kvm = kvmNotifierOps({
        tracker,
        lock,
        memslots,
        zap: (gfnStart, gfnEnd) => {
          for (let g = gfnStart; g < gfnEnd; g++) sptes.delete(g);
        },
      });
      subs.register(kvm);
      const addSlot = async () => {
        for (let i = 0; i < changeAfter; i++) await step(`memslot change: step ${i}`);
        if (waits) await kvm.waitForInvalidations(() => memslots.push(ADDED));
        else memslots.push(ADDED); // negative control: no wait for in-flight invalidations
      };
      const fault = async (index: number) => {
        const gfn = GFNS[index]!;
        await step(`fault gfn ${gfn}: start`);
        await faultWithRetry({
          tracker,
          gfn,
          lock,
          maxRetries: 1000,
          backoff: () => step(`fault gfn ${gfn}: retry`),
          resolve: async () => {
            await step(`fault gfn ${gfn}: resolving`);
            const hva = hvaOf(memslots, gfn); // gfn_to_hva with the memslots of the moment
            const page = hva === undefined ? undefined : backing[hva];
            await step(`fault gfn ${gfn}: resolved ${page}`);
            return page;
          },
          install: (page) => {
            if (page === undefined) return; // no memslot (yet): nothing to map
            const hva = hvaOf(memslots, gfn)!;
            if (page !== backing[hva]) stale.push(`gfn ${gfn}: ${page} != ${backing[hva]}`);
            sptes.set(gfn, page);
          },
        });
      };
      const change = (start: number, end: number) => {
        for (let a = start; a < end; a++) backing[a] = nextPage++;
      };
      await s.waitFor(
        Promise.all([
          addSlot(),
          ...faults.map(fault),
          ...invalidations.map((inv) => invalidate(subs, step, inv, change)),
        ]),
      );
      expect(stale).toEqual([]);
      for (const [gfn, page] of sptes) expect(page).toBe(backing[hvaOf(memslots, gfn)!]);
      expect(tracker.inProgress).toBe(0);
      expect(kvm.activeInvalidations).toBe(0);
    },
  );
}

describe('memslot changes through waitForInvalidations, racing invalidations and faults', () => {
  it('a memslot added while invalidations run never lets a stale page in', async () => {
    await fc.assert(memslotRace(true), { numRuns: RUNS });
  });

  it('negative control: adding the memslot without waiting is caught', async () => {
    const out = await fc.check(memslotRace(false), { numRuns: 1000, seed: 13 });
    expect(out.failed).toBe(true);
  });
});
