import { Mutex } from 'async-mutex';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IntervalNotifier, MmuNotifierSubscriptions } from '../src/index.js';

/**
 * A secondary MMU mirroring PAGES pages through the collision-retry protocol, raced by fast-check's
 * scheduler against invalidations, a late insert and a remove.
 *
 * The primary page table `pt` holds a version per page; every invalidation bumps the versions of
 * its pages between its start and its end (the primary changes its page tables). The secondary
 * table `spt` holds the version a fault installed. Oracle: at install time (under the user lock)
 * the installed version equals the primary's, and after everything settled every installed
 * mapping equals the primary's (a stale install that lands between an invalidation's zap and
 * the primary's change is only visible then). Half of the invalidations are non-blockable:
 * their callbacks answer EAGAIN when the user lock is taken, and the invalidation is dropped.
 * A deferred removal must also never be called after remove() resolved (negative control: a
 * caller that counts it removed before remove() resolves is caught).
 *
 * The yield points are scheduled, the lock acquisitions themselves are not: the scheduler awaits
 * the promise it releases, so releasing a blocked `acquire()` would deadlock the test harness.
 */
const PAGES = 6;

/** What the explored runs actually exercised, to show the property is not vacuous. */
const stats = { retries: 0, lateWaits: 0, deferredRemoves: 0, eagain: 0 };

interface Variant {
  skipRetry?: boolean;
  skipSetSeq?: boolean;
  /** Counts the victim as removed as soon as remove() is called (a remove that does not wait). */
  removeWithoutWait?: boolean;
}

const invalidationArb = fc.record({
  start: fc.nat(PAGES - 1),
  len: fc.integer({ min: 1, max: 3 }),
  nonblock: fc.boolean(),
});

const scenarioArb = fc.record({
  invalidations: fc.array(invalidationArb, { minLength: 1, maxLength: 3 }),
  faults: fc.array(fc.nat(PAGES - 1), { minLength: 1, maxLength: 3 }),
  lateFault: fc.nat(PAGES - 1),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

async function runScenario(s: fc.Scheduler, sc: Scenario, variant: Variant): Promise<string[]> {
  const subs = new MmuNotifierSubscriptions({ onWarning: () => {} });
  const lock = new Mutex();
  const pt: number[] = new Array(PAGES).fill(0);
  const spt = new Map<number, number>();
  const violations: string[] = [];
  let removedDone = false;

  const zap = (sub: IntervalNotifier, r: { start: number; end: number }, cur: number) => {
    if (!variant.skipSetSeq) sub.setSeq(cur);
    const lo = Math.max(r.start, sub.start);
    const hi = Math.min(r.end - 1, sub.last);
    for (let p = lo; p <= hi; p++) spt.delete(p);
  };
  const opsFor = (name: string) => ({
    invalidate(
      sub: IntervalNotifier,
      r: { start: number; end: number; blockable: boolean },
      cur: number,
    ): boolean | Promise<boolean> {
      if (name === 'victim' && removedDone) violations.push('victim called after remove()');
      if (!r.blockable) {
        if (lock.isLocked()) return false; // would wait: EAGAIN
        zap(sub, r, cur); // lock free and no await: nobody is between readRetry and install
        return true;
      }
      return (async () => {
        await s.schedule(Promise.resolve(), `${name} lock`);
        const release = await lock.acquire();
        try {
          zap(sub, r, cur);
        } finally {
          release();
        }
        return true;
      })();
    },
  });

  // Two mirrors splitting the space, plus a victim over everything that gets removed.
  const half = Math.floor(PAGES / 2);
  const lowSub = subs.insertInterval(0, half, opsFor('low'));
  const highSub = subs.insertInterval(half, PAGES - half, opsFor('high'));
  const victim = subs.insertInterval(0, PAGES, opsFor('victim'));
  const subFor = (p: number) => (p < half ? lowSub : highSub);

  async function fault(sub: IntervalNotifier, p: number, name: string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const seq = await sub.readBegin();
      const version = await s.schedule(Promise.resolve(pt[p]!), `${name} resolve p${p}`);
      await s.schedule(Promise.resolve(), `${name} lock`);
      const release = await lock.acquire();
      try {
        // The device is slow to program: the lock is held across a scheduling point, so
        // non-blockable invalidations can find it taken (EAGAIN). readRetry and the install
        // below stay in one synchronous section.
        await s.schedule(Promise.resolve(), `${name} program`);
        if (!variant.skipRetry && sub.readRetry(seq)) {
          stats.retries++;
          continue;
        }
        if (version !== pt[p])
          violations.push(`${name}: installed v${version} of p${p}, primary has v${pt[p]}`);
        spt.set(p, version);
        return;
      } finally {
        release();
      }
    }
    violations.push(`${name}: no progress`);
  }

  async function invalidate(start: number, len: number, nonblock: boolean, i: number) {
    const end = Math.min(PAGES, start + len);
    await s.schedule(Promise.resolve(), `inv${i} begin`);
    const range = { start, end, event: 'clear' as const, blockable: !nonblock };
    if (nonblock) {
      if (!subs.invalidateRangeStartNonblock(range)) {
        stats.eagain++;
        return; // EAGAIN: leave the page tables alone, do not end
      }
    } else {
      await subs.invalidateRangeStart(range);
    }
    await s.schedule(Promise.resolve(), `inv${i} change`);
    for (let p = start; p < end; p++) pt[p]!++;
    await s.schedule(Promise.resolve(), `inv${i} end`);
    subs.invalidateRangeEnd(range);
  }

  async function lateInsertAndFault(p: number): Promise<void> {
    await s.schedule(Promise.resolve(), 'late insert');
    const late = subs.insertInterval(p, 1, opsFor('late'));
    if (late.tryReadBegin() === undefined) stats.lateWaits++;
    await fault(late, p, 'late');
  }

  async function removeVictim(): Promise<void> {
    await s.schedule(Promise.resolve(), 'remove');
    const removal = victim.remove();
    if (victim.state === 'pending-remove') stats.deferredRemoves++;
    if (variant.removeWithoutWait) removedDone = true;
    await removal;
    removedDone = true;
  }

  const tasks = [
    ...sc.invalidations.map((inv, i) => invalidate(inv.start, inv.len, inv.nonblock, i)),
    ...sc.faults.map((p, i) => fault(subFor(p), p, `fault${i}`)),
    lateInsertAndFault(sc.lateFault),
    removeVictim(),
  ];
  await s.waitFor(Promise.all(tasks));
  for (const [p, v] of spt) {
    if (v !== pt[p]) violations.push(`after settling: p${p} maps v${v}, primary has v${pt[p]}`);
  }
  if (subs.activeInvalidateRanges !== 0 || subs.invalidateSeq % 2 !== 0) {
    violations.push(`not idle: seq ${subs.invalidateSeq}, active ${subs.activeInvalidateRanges}`);
  }
  return violations;
}

function property(variant: Variant) {
  return fc.asyncProperty(fc.scheduler(), scenarioArb, async (s, sc) => {
    const violations = await runScenario(s, sc, variant);
    if (violations.length !== 0) throw new Error(violations.join('; '));
  });
}

describe('collision-retry under explored interleavings', () => {
  it('never installs a mapping older than the last invalidation covering it', async () => {
    await fc.assert(property({}), { numRuns: 150, seed: 42 });
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.lateWaits).toBeGreaterThan(0);
    expect(stats.deferredRemoves).toBeGreaterThan(0);
    expect(stats.eagain).toBeGreaterThan(0);
  });

  it('negative control: a fault that skips readRetry is caught', async () => {
    const result = await fc.check(property({ skipRetry: true }), { numRuns: 300, seed: 42 });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(
      /(installed v\d+ of p\d+|after settling: p\d+ maps v\d+), primary has v\d+/,
    );
  });

  it('negative control: an invalidate callback that skips setSeq is caught', async () => {
    const result = await fc.check(property({ skipSetSeq: true }), { numRuns: 300, seed: 42 });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(
      /(installed v\d+ of p\d+|after settling: p\d+ maps v\d+), primary has v\d+/,
    );
  });

  it('negative control: treating remove() as done before it resolves is caught', async () => {
    const result = await fc.check(property({ removeWithoutWait: true }), {
      numRuns: 300,
      seed: 42,
    });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/victim called after remove\(\)/);
  });
});
