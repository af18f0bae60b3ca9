import type { KvmNotifier, KvmNotifierOptions } from '@mmukit/fault-retry';
import { IntervalNotifier, type NotifierLock } from '@mmukit/mmu-notifier';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type RunResult, runScenario, type ScenarioConfig } from '../src/scenario.js';

/**
 * KVM under PREEMPT_RT (`kvmRt`: mmu_lock sleeps, and a vCPU can be preempted holding it) and
 * memslot updates (`memslotUpdates`: a swap that waits for the invalidations counted). The
 * negative controls break kvmNotifierOps from outside (its lock, its wait) and setSeq's refusal.
 */

// How the controls below break kvmNotifierOps; '' leaves it alone.
const broken = vi.hoisted(() => ({ mode: '' as '' | 'no-wait' | 'never-wakes' | 'lying-trylock' }));

vi.mock('@mmukit/fault-retry', async (importOriginal) => {
  const real = await importOriginal<typeof import('@mmukit/fault-retry')>();
  const kvmNotifierOps = (options: KvmNotifierOptions): KvmNotifier => {
    if (broken.mode === 'lying-trylock') {
      // Says the lock is taken even when a preempted vCPU holds it.
      const lock = options.lock as NotifierLock;
      const tryLock = (): true => {
        lock.tryLock();
        return true;
      };
      options = { ...options, lock: { ...lock, tryLock } };
    }
    const ops = real.kvmNotifierOps(options);
    // Replaced in place: a copy would freeze the activeInvalidations getter.
    if (broken.mode === 'no-wait') {
      Object.assign(ops, { waitForInvalidations: async (change?: () => unknown) => change?.() });
    } else if (broken.mode === 'never-wakes') {
      Object.assign(ops, { waitForInvalidations: () => new Promise<never>(() => {}) });
    }
    return ops;
  };
  return { ...real, kvmNotifierOps };
});

const EAGAIN_WARNING =
  'a classic subscriber whose invalidateRangeStart() returned EAGAIN has an end';
const rt: Partial<ScenarioConfig> = { ops: 2000, end: 'oom', kvmRt: true, memslotUpdates: 0.05 };
const SEEDS = 6;

/** Runs the seeds, counting the scheduling points each label was parked at. */
async function runs(config: Partial<ScenarioConfig> = rt) {
  const results: RunResult[] = [];
  const parked = new Map<string, number>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = await runScenario({
      ...config,
      seed,
      fullTrace: true,
      onStart: (_trace, sched) => {
        sched.observer = {
          parked: (_t, label) => parked.set(label, (parked.get(label) ?? 0) + 1),
          resumed: () => {},
        };
      },
    });
    results.push(r);
  }
  return { results, parked };
}

afterEach(() => {
  broken.mode = '';
  vi.restoreAllMocks();
});

describe('KVM under PREEMPT_RT, with memslot updates', () => {
  it('runs clean, and reaches every path: waits for mmu_lock, EAGAIN, memslot swaps', async () => {
    const { results, parked } = await runs();
    for (const r of results) expect(r.violation?.message).toBeUndefined();
    // A vCPU preempted holding mmu_lock, and invalidations (and faults) waiting for it.
    expect(parked.get('kvm: preempted holding mmu_lock') ?? 0).toBeGreaterThan(0);
    expect(parked.get('lock:kvm->mmu_lock') ?? 0).toBeGreaterThan(0);
    // The OOM reaper's non-blockable starts that found it held: EAGAIN (the core warns, as the
    // kernel does, about a subscriber with an end), and only that warning.
    const warnings = results.flatMap((r) => r.stats.warnings);
    expect(warnings.length).toBeGreaterThan(0);
    expect(new Set(warnings)).toEqual(new Set([EAGAIN_WARNING]));
    const log = results.flatMap((r) => r.log ?? []);
    expect(log.filter((l) => / kvm memslots swapped /.test(l)).length).toBeGreaterThan(0);
    expect(parked.get('kvm: memslot update waits') ?? 0).toBeGreaterThan(0);
  });

  it('the options change nothing when off: the default run draws the same schedule', async () => {
    const plain = await runScenario({ seed: 3, ops: 3000 });
    const off = await runScenario({ seed: 3, ops: 3000, kvmRt: false, memslotUpdates: 0 });
    expect(off.traceHash).toBe(plain.traceHash);
  });

  it('negative control: a memslot swap that does not wait for invalidations is reported', async () => {
    broken.mode = 'no-wait';
    const { results } = await runs();
    const found = results.find((r) => r.violation !== undefined);
    expect(found?.violation?.message).toMatch(
      /memslots swapped with [1-9]\d* invalidation\(s\) counted/,
    );
  });

  it('negative control: a memslot swap that is never woken is a deadlock', async () => {
    broken.mode = 'never-wakes';
    const { results } = await runs();
    const found = results.find((r) => r.violation !== undefined);
    expect(found?.violation?.kind).toBe('deadlock');
    expect(found?.violation?.message).toMatch(/kvm: memslot update waits/);
  });

  it('negative control: a start that goes on while a vCPU holds mmu_lock is caught', async () => {
    broken.mode = 'lying-trylock';
    const { results } = await runs();
    const found = results.find((r) => r.violation !== undefined);
    expect(found?.violation?.message).toMatch(/unlocks kvm->mmu_lock held by vcpu/);
  });

  it('negative control: a setSeq() accepted outside any callback is reported', async () => {
    const setSeq = IntervalNotifier.prototype.setSeq;
    vi.spyOn(IntervalNotifier.prototype, 'setSeq').mockImplementation(function (
      this: IntervalNotifier,
      curSeq: number,
    ) {
      try {
        setSeq.call(this, curSeq);
      } catch {
        // refused outside a callback: swallowed, so it looks accepted
      }
    });
    const r = await runScenario({ seed: 1, ops: 2000 });
    expect(r.violation?.message).toMatch(/hmm: setSeq\(\) outside any callback was accepted/);
  });

  it('rejects a memslot update chance outside [0, 1]', async () => {
    await expect(runScenario({ memslotUpdates: -0.1 })).rejects.toThrow(
      /memslotUpdates must be a chance/,
    );
  });
});
