import { describe, expect, it } from 'vitest';
import { BUG_MODES } from '../src/bug-modes.js';
import { exploreSeed } from '../src/explore.js';
import type { Bugs } from '../src/scenario.js';

/**
 * PCT's budget: with its change points spread over the run's operations and spinning retries
 * dropping their priority, PCT at depth 10 (2,000 ops, --end random) finds every planted bug
 * within 100 seeds from seed 1. Before, with the points spread over six times a run's length,
 * it found hmm-no-read-retry and vhost-no-prefetch-retry in none of 200 seeds.
 */
const BUDGET = 100;
const BUGS: Record<string, Bugs> = BUG_MODES;

describe(`PCT (depth 10) finds every bug mode within ${BUDGET} seeds`, () => {
  for (const [name, bugs] of Object.entries(BUGS)) {
    it(name, async () => {
      const base = {
        ops: 2000,
        end: 'random' as const,
        strategy: 'pct' as const,
        pctDepth: 10,
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
