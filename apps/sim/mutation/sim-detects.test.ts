import { describe, expect, it } from 'vitest';
import { exhaustWorld } from '../src/exhaustive.js';
import { runScenario, type ScenarioConfig } from '../src/scenario.js';
import { TINY_WORLDS } from '../src/tiny-worlds.js';

/**
 * The sim as a test of the packages: with a mutant planted in a package, the exploration below
 * must report something (a violation, a crash, a deadlock, a notifier warning or a wrong final
 * state). With the packages as they are, it reports nothing. Run by `pnpm mutation` here.
 */

/**
 * The core's warning for KVM's EAGAIN start (a subscriber with an end that failed its start): an
 * expected consequence of a non-blockable start finding the RT mmu_lock held.
 */
const KVM_EAGAIN_WARNING =
  'a classic subscriber whose invalidateRangeStart() returned EAGAIN has an end';

/** Runs one config and fails with what the sim saw, if anything. */
async function clean(config: Partial<ScenarioConfig>): Promise<void> {
  const r = await runScenario(config);
  if (!r.ok) throw new Error(`seed ${config.seed}: ${r.violation?.message}`);
  const expected = config.kvmRt === true ? [KVM_EAGAIN_WARNING] : [];
  expect(r.stats.warnings.filter((w) => !expected.includes(w))).toEqual([]);
  expect(r.final.activeRanges).toBe(0);
  expect(r.final.invalidateSeq % 2).toBe(0);
}

describe('the sim sees nothing wrong in the packages', () => {
  it('random: 8 seeds x 2,000 ops, both endings', async () => {
    for (let seed = 1; seed <= 8; seed++) await clean({ seed, ops: 2000, end: 'random' });
  });

  it('PCT depth 10: 8 seeds x 2,000 ops', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      await clean({ seed, ops: 2000, end: 'random', strategy: 'pct', pctDepth: 10 });
    }
  });

  it('KVM extras (an arm64 vCPU, the pfn cache, signals): 8 seeds x 2,000 ops', async () => {
    const extras = { arm64Vcpus: 1, pfnCache: true, kick: 0.05, end: 'random' } as const;
    for (let seed = 1; seed <= 8; seed++) await clean({ seed, ops: 2000, ...extras });
  });

  it('three vhost workers (SRCU readers of several generations): 8 seeds x 2,000 ops', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      await clean({ seed, ops: 2000, end: 'random', vhostWorkers: 3 });
    }
    // Only vhost, every operation aimed at its rings: grace periods overlap.
    const rings = { kvm: false, hmm: false, focus: 8, vhostWorkers: 3, end: 'random' } as const;
    for (let seed = 1; seed <= 8; seed++) await clean({ seed, ops: 2000, ...rings });
  });

  it('PREEMPT_RT KVM (vCPUs preempted holding mmu_lock) and memslot updates: 8 seeds x 2,000 ops', async () => {
    const extras = { kvmRt: true, memslotUpdates: 0.05, end: 'oom' } as const;
    for (let seed = 1; seed <= 8; seed++) await clean({ seed, ops: 2000, ...extras });
  });

  it('failing callbacks (HMM and KVM, 5% each): 8 seeds x 2,000 ops', async () => {
    const extras = { callbackErrors: 0.05, end: 'random' } as const;
    for (let seed = 1; seed <= 8; seed++) await clean({ seed, ops: 2000, ...extras });
  });

  it.each(TINY_WORLDS.map((w) => [w.name, w] as const))(
    'every schedule of the %s tiny world with at most one preemption',
    async (_name, world) => {
      const r = await exhaustWorld(
        world,
        {},
        { maxSchedules: 50_000, preemptionBound: 1, stop: true },
      );
      if (r.first !== undefined) throw new Error(`seed ${r.first.seed}: ${r.first.message}`);
      expect(r.complete).toBe(true);
    },
  );
});
