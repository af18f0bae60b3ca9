import { describe, expect, it } from 'vitest';
import { BUG_MODES, BUG_NAMES } from '../src/bug-modes.js';
import { type Bugs, runScenario } from '../src/scenario.js';

describe('determinism', () => {
  it('two runs with the same seed give identical event logs (random strategy)', async () => {
    const a = await runScenario({ seed: 11, ops: 1500, fullTrace: true });
    const b = await runScenario({ seed: 11, ops: 1500, fullTrace: true });
    expect(a.ok).toBe(true);
    expect(a.log!.length).toBeGreaterThan(1000);
    expect(b.log).toEqual(a.log);
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.steps).toBe(a.steps);
    expect(b.stats).toEqual(a.stats);
  });

  it('two runs with the same seed give identical event logs (PCT strategy)', async () => {
    const a = await runScenario({ seed: 5, ops: 1500, strategy: 'pct', fullTrace: true });
    const b = await runScenario({ seed: 5, ops: 1500, strategy: 'pct', fullTrace: true });
    expect(b.log).toEqual(a.log);
  });

  it('a run does not depend on how many microtasks a task takes to resume (only on the seed)', async () => {
    const configs = [
      { seed: 3, ops: 3000 },
      { seed: 4, ops: 3000, strategy: 'pct' as const, pctDepth: 5 },
      { seed: 5, ops: 3000, end: 'exit' as const, rebind: 0.3 },
    ];
    let waits = 0;
    for (const config of configs) {
      const plain = await runScenario(config);
      waits += plain.stats.waits.readBegin + plain.stats.waits.vhostReader;
      const delayed = await runScenario({
        ...config,
        onStart: (_trace, sched) => {
          sched.resumeDelay = (t) => (t.id * 7 + sched.steps) % 5;
        },
      });
      expect(plain.ok).toBe(true);
      expect(delayed.traceHash).toBe(plain.traceHash);
      expect(delayed.steps).toBe(plain.steps);
      expect(delayed.stats).toEqual(plain.stats);
    }
    expect(waits).toBeGreaterThan(0); // the runs have waits of the packages (readBegin, srcu)
  });

  it('different seeds give different runs', async () => {
    const a = await runScenario({ seed: 1, ops: 800 });
    const b = await runScenario({ seed: 2, ops: 800 });
    expect(a.traceHash).not.toBe(b.traceHash);
  });
});

describe('exploration of the mixed default scenario', () => {
  it('200 seeds x 2,000 ops: zero violations, every secondary and every event exercised', async () => {
    const totals = {
      kvm: 0,
      hmm: 0,
      vhost: 0,
      retries: 0,
      eagain: 0,
      swapOuts: 0,
      oom: 0,
      exit: 0,
    };
    const events = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const r = await runScenario({ seed, ops: 2000, sweepEvery: 512, end: 'random' });
      if (!r.ok)
        throw new Error(`seed ${seed}: ${r.violation?.message}\n${r.violation?.trace.join('\n')}`);
      expect(r.final.frames).toBe(0);
      expect(r.final.activeRanges).toBe(0);
      expect(r.final.invalidateSeq % 2).toBe(0);
      totals.kvm += r.stats.accesses.kvm;
      totals.hmm += r.stats.accesses.hmm;
      totals.vhost += r.stats.vhostFast;
      totals.retries += r.stats.retries.kvm + r.stats.retries.hmm + r.stats.retries.vhost;
      totals.eagain += r.stats.eagain;
      totals.swapOuts += r.stats.swapOuts;
      totals[r.endMode]++;
      for (const [e, n] of Object.entries(r.stats.invalidations)) if (n > 0) events.add(e);
      expect(r.stats.warnings).toEqual([]);
    }
    expect(totals.kvm).toBeGreaterThan(0);
    expect(totals.hmm).toBeGreaterThan(0);
    expect(totals.vhost).toBeGreaterThan(0);
    expect(totals.retries).toBeGreaterThan(0);
    expect(totals.eagain).toBeGreaterThan(0);
    expect(totals.swapOuts).toBeGreaterThan(0);
    expect(totals.oom).toBeGreaterThan(0);
    expect(totals.exit).toBeGreaterThan(0);
    expect([...events].sort()).toEqual([
      'clear',
      'migrate',
      'protection-vma',
      'release',
      'soft-dirty',
      'unmap',
    ]);
  }, 60_000);

  it('PCT: 40 seeds x 2,000 ops at depth 3: zero violations', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = await runScenario({ seed, ops: 2000, strategy: 'pct', pctDepth: 3 });
      if (!r.ok) throw new Error(`seed ${seed}: ${r.violation?.message}`);
    }
  }, 30_000);
});

describe('negative controls: the checker finds each injected bug', () => {
  // Every mode of the bug table, with only the broken secondary, and its name in the message.
  const cases = BUG_NAMES.map((name) => {
    const bugs: Bugs = BUG_MODES[name];
    const who = (['kvm', 'hmm', 'vhost'] as const).find((s) => bugs[s] !== undefined)!;
    const config = { kvm: who === 'kvm', hmm: who === 'hmm', vhost: who === 'vhost', bugs };
    return [name, config, new RegExp(`^${who}: `)] as const;
  });
  for (const [name, config, who] of cases) {
    it(`finds a violation with --bug ${name}`, async () => {
      let found: string | undefined;
      for (let seed = 1; seed <= 60 && found === undefined; seed++) {
        const r = await runScenario({ ...config, seed, ops: 2000 });
        if (!r.ok) {
          expect(r.violation!.kind).toBe('violation');
          expect(r.violation!.trace.length).toBeGreaterThan(0);
          found = r.violation!.message;
        }
      }
      expect(found).toMatch(who);
    }, 20_000);
  }
});
