import { InvalidationTracker } from '@mmukit/fault-retry';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type RunResult, runScenario } from '../src/scenario.js';

/**
 * KVM's other users of the invalidation tracker: an arm64 vCPU (range-agnostic `retry(seq)`
 * under mmu_lock), a pfn cache (lockless `retryCache(seq)`), and signals that interrupt faults
 * (FaultAbortedError). The sim keeps its own account of the tracker and checks each of its
 * answers; a tracker that answers wrongly is reported.
 */
const extras = { ops: 2000, end: 'random', arm64Vcpus: 1, pfnCache: true, kick: 0.05 } as const;
const SEEDS = 6;

async function runs(): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    out.push(await runScenario({ ...extras, seed, fullTrace: true }));
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('KVM extras', () => {
  it('run clean, and each of them is exercised', async () => {
    const all = await runs();
    for (const r of all) expect(r.violation?.message).toBeUndefined();
    const log = all.flatMap((r) => r.log ?? []);
    const count = (re: RegExp) => log.filter((line) => re.test(line)).length;
    expect(count(/ kvm kicked /)).toBeGreaterThan(0);
    expect(count(/ gpc refreshed /)).toBeGreaterThan(0);
    expect(count(/ gpc (read|write) /)).toBeGreaterThan(0);
    // vcpu1 is the arm64 one: it installs pages too.
    expect(count(/ vcpu1 +kvm install /)).toBeGreaterThan(0);
    expect(all.reduce((n, r) => n + r.stats.retries.kvm, 0)).toBeGreaterThan(0);
  });

  it('the options change nothing when off: the default run draws the same schedule', async () => {
    const plain = await runScenario({ seed: 3, ops: 3000 });
    const off = await runScenario({ seed: 3, ops: 3000, arm64Vcpus: 0, pfnCache: false, kick: 0 });
    expect(off.traceHash).toBe(plain.traceHash);
  });

  it.each([
    ['retryCache', false, /tracker\.retryCache\(seq\) = false, expected true/],
    ['retry', false, /tracker\.retry\(seq\) = false, expected true/],
    ['retryGfn', true, /tracker\.retryGfn\(seq, \d+\) = true, expected false/],
    ['retryGfnUnsafe', false, /tracker\.retryGfnUnsafe\(seq, \d+\) = false, expected true/],
  ] as const)(
    'negative control: a tracker whose %s always says %s is reported',
    async (method, answer, message) => {
      vi.spyOn(InvalidationTracker.prototype, method).mockReturnValue(answer);
      const all = await runs();
      const found = all.find((r) => r.violation !== undefined);
      expect(found?.violation?.message).toMatch(message);
    },
  );

  it('rejects an arm64 vCPU count above the vCPUs and a kick chance outside [0, 1]', async () => {
    await expect(runScenario({ vcpus: 2, arm64Vcpus: 3 })).rejects.toThrow(RangeError);
    await expect(runScenario({ kick: 1.5 })).rejects.toThrow(/kick must be a chance/);
  });
});
