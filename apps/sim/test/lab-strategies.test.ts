import { describe, expect, it } from 'vitest';
import { LabChecker, NO_ENTRY } from '../src/lab/checker.js';
import {
  DEFAULT_LAB_CONFIG,
  LAB_BUG_NAMES,
  LAB_BUGS,
  type LabConfig,
  STRATEGY_NAMES,
} from '../src/lab/config.js';
import { runLab, runStrategy } from '../src/lab/run-lab.js';
import { Scheduler, StopSignal } from '../src/scheduler.js';

/** The small workload of these tests: two invalidators, so invalidations overlap too. */
const SMALL: LabConfig = { ...DEFAULT_LAB_CONFIG, steps: 2000, invalidators: 2 };

/** Each planted bug is caught within this many seeds (1..BUG_BUDGET) of SMALL. */
const BUG_BUDGET = 10;

describe('lab: every strategy keeps the secondary coherent', () => {
  for (const name of STRATEGY_NAMES) {
    it(`${name}: no violation on 100 seeds of a small workload, with real work done`, async () => {
      let faults = 0;
      let invalidations = 0;
      for (let seed = 1; seed <= 100; seed++) {
        const r = await runStrategy({ ...SMALL, seed }, name);
        if (!r.ok) expect.fail(`seed ${seed}: ${r.violation!.kind}: ${r.violation!.message}`);
        expect(r.steps).toBeGreaterThanOrEqual(SMALL.steps);
        faults += r.faults;
        invalidations += r.invalidations;
      }
      // Not an idle run: faults and invalidations raced on every seed's table.
      expect(faults).toBeGreaterThan(100 * 20);
      expect(invalidations).toBeGreaterThan(100 * 5);
    });
  }

  it('also on tiny tables hit by an invalidation at almost every turn', async () => {
    const tiny = { ...DEFAULT_LAB_CONFIG, steps: 1500, pages: 4, rangeSize: 4, faulters: 2 };
    for (let seed = 1; seed <= 20; seed++) {
      for (const r of await runLab({ ...tiny, seed, invalidationRate: 1 }, STRATEGY_NAMES)) {
        if (!r.ok) expect.fail(`${r.strategy}, seed ${seed}: ${r.violation!.message}`);
      }
    }
  });
});

describe('lab: each planted bug is caught (negative controls)', () => {
  for (const bug of LAB_BUG_NAMES) {
    const strategy = LAB_BUGS[bug];
    it(`${bug} (${strategy}) is caught within ${BUG_BUDGET} seeds`, async () => {
      let caught: number | undefined;
      for (let seed = 1; seed <= BUG_BUDGET && caught === undefined; seed++) {
        const r = await runStrategy({ ...SMALL, seed }, strategy, bug);
        expect(r.bug).toBe(bug);
        if (!r.ok) {
          caught = seed;
          expect(r.violation!.kind).toBe('violation');
          expect(r.violation!.message).toMatch(/inside an open invalidation window|stale/);
        }
      }
      expect(caught).toBeDefined();
    });
  }

  it('a bug is planted only in its own strategy', async () => {
    // mutex-install-after-unlock is caught on seed 3 of SMALL; the other strategies ignore it.
    const config = { ...SMALL, seed: 3 };
    const rs = await runLab(config, STRATEGY_NAMES, 'mutex-install-after-unlock');
    expect(rs.map((r) => [r.strategy, r.ok, r.bug])).toEqual([
      ['collision-retry', true, undefined],
      ['kvm-retry', true, undefined],
      ['mutex', false, 'mutex-install-after-unlock'],
      ['reader-count', true, undefined],
      ['grace-period', true, undefined],
    ]);
    // ... and run exactly as without it.
    const clean = await runLab(config, STRATEGY_NAMES);
    expect(rs.filter((r) => r.strategy !== 'mutex')).toEqual(
      clean.filter((r) => r.strategy !== 'mutex'),
    );
    expect(clean[2]!.ok).toBe(true);
  });
});

describe('lab: the metrics', () => {
  it('same seed, same metrics; another seed, other metrics', async () => {
    const a = await runLab({ ...SMALL, seed: 7 }, STRATEGY_NAMES);
    const b = await runLab({ ...SMALL, seed: 7 }, STRATEGY_NAMES);
    const c = await runLab({ ...SMALL, seed: 8 }, STRATEGY_NAMES);
    expect(b).toEqual(a);
    for (let i = 0; i < a.length; i++) expect(c[i]).not.toEqual(a[i]);
  });

  it('say what each strategy is: who waits, who retries, who throws work away', async () => {
    const config = { ...DEFAULT_LAB_CONFIG, steps: 10_000, seed: 5 };
    const by = Object.fromEntries(
      (await runLab(config, STRATEGY_NAMES)).map((r) => [r.strategy, r]),
    );
    // The retry strategies never make an invalidation wait, and throw resolved pages away.
    for (const name of ['collision-retry', 'kvm-retry'] as const) {
      expect(by[name]!.invalidationLatency).toEqual({ p50: 0, p99: 0 });
      expect(by[name]!.wastedResolveSteps).toBeGreaterThan(0);
      expect(by[name]!.wastedResolveSteps % config.resolveSteps).toBe(0);
      expect(by[name]!.retries).toBeGreaterThan(0);
    }
    // The waiting strategies make the start wait for the faults inside, and waste nothing.
    for (const name of ['mutex', 'reader-count', 'grace-period'] as const) {
      expect(by[name]!.invalidationLatency.p99).toBeGreaterThan(0);
      expect(by[name]!.wastedResolveSteps).toBe(0);
    }
    expect(by.mutex!.retries).toBe(0);
    // A fault takes at least its resolve; p50 <= p99.
    for (const r of Object.values(by)) {
      expect(r.faultLatency.p50).toBeGreaterThanOrEqual(config.resolveSteps);
      expect(r.faultLatency.p99).toBeGreaterThanOrEqual(r.faultLatency.p50);
      expect(r.faultsPer1000Steps).toBeCloseTo((r.faults * 1000) / r.steps, 2);
    }
  });

  it('refuses a bad config before running anything', async () => {
    await expect(runStrategy({ ...SMALL, pages: 2 }, 'mutex')).rejects.toThrow(
      /pages must be an integer from 4/,
    );
    await expect(runStrategy({ ...SMALL, rangeSize: 100 }, 'mutex')).rejects.toThrow(
      /rangeSize \(100\) must not exceed pages \(64\)/,
    );
    await expect(runStrategy({ ...SMALL, invalidationRate: 2 }, 'mutex')).rejects.toThrow(
      /invalidationRate must be a number from 0 to 1/,
    );
  });
});

describe('lab: the checker itself (each check can fail)', () => {
  const make = () => {
    const sched = new Scheduler({ seed: 1 });
    const pte = Int32Array.from([10, 11, 12, 13]);
    const spte = new Int32Array(4).fill(NO_ENTRY);
    return { sched, pte, spte, checker: new LabChecker(sched, pte, spte) };
  };

  it('an install inside an open window', () => {
    const { sched, checker } = make();
    checker.opened(1, 2);
    checker.install(0, 10); // outside the window: fine
    expect(() => checker.install(2, 12)).toThrow(StopSignal);
    expect(checker.violation?.message).toBe('install of page 2 inside an open invalidation window');
    expect(sched.isStopped).toBe(true);
  });

  it('an install after the window closed is fine, unless it installs an old frame', () => {
    const { checker } = make();
    checker.opened(1, 2);
    checker.closed(1, 2);
    checker.install(2, 12);
    expect(() => checker.install(3, 99)).toThrow(StopSignal);
    expect(checker.violation?.message).toMatch(/stale install: page 3 -> frame 99/);
  });

  it('an entry left when the PTE changes', () => {
    const { spte, checker } = make();
    spte[3] = 13;
    checker.beforeChange(0, 2);
    expect(() => checker.beforeChange(2, 3)).toThrow(StopSignal);
    expect(checker.violation?.message).toMatch(/page 3 still has a secondary entry/);
  });

  it('an access through a stale entry, and the first violation wins', () => {
    const { pte, spte, checker } = make();
    spte[0] = 10;
    checker.access(0);
    pte[0] = 20;
    expect(() => checker.access(0)).toThrow(StopSignal);
    expect(() => checker.sweep()).toThrow(StopSignal);
    expect(checker.violation?.message).toMatch(
      /stale translation: page 0 accessed through frame 10/,
    );
  });
});
