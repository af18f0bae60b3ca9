import { describe, expect, it } from 'vitest';
import { BUG_MODES, type BugMode } from '../src/bug-modes.js';
import { exploreSeed } from '../src/explore.js';
import type { Bugs } from '../src/scenario.js';

/**
 * PCT's budget: with its change points spread over the run's operations and spinning retries
 * dropping their priority, PCT at depth 10 (2,000 ops, --end random) finds every planted bug
 * within 100 seeds from seed 1, except hmm-install-unlocked, which needs depth 20: its stale
 * program needs the fault to lose the CPU exactly between dropping the device lock and
 * programming, while under fixed priorities either the invalidation runs before the fault takes
 * the lock (a preemption point too, so readRetry sees it) or the fault runs through.
 */
const BUDGET = 100;
const BUGS: Record<string, Bugs> = BUG_MODES;
const DEPTH: Partial<Record<BugMode, number>> = { 'hmm-install-unlocked': 20 };

describe(`PCT finds every bug mode within ${BUDGET} seeds`, () => {
  for (const [name, bugs] of Object.entries(BUGS)) {
    const depth = DEPTH[name as BugMode] ?? 10;
    it(`${name} (depth ${depth})`, async () => {
      const base = {
        ops: 2000,
        end: 'random' as const,
        strategy: 'pct' as const,
        pctDepth: depth,
        bugs,
      };
      let found: number | undefined;
      for (let seed = 1; seed <= BUDGET && found === undefined; seed++) {
        const o = await exploreSeed(base, seed);
        if (o.kind !== undefined) found = seed;
      }
      expect(found).toBeDefined();
    });
  }
});
