import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { shrink, violationShape } from '../src/shrink.js';

describe('shrink', () => {
  it('returns a smaller config that fails the same way when replayed', async () => {
    const failing = await runScenario({
      seed: 1,
      ops: 2000,
      end: 'random',
      bugs: { vhost: { noWait: true } },
    });
    expect(failing.ok).toBe(false);
    const s = await shrink(failing);
    expect(s.runs).toBeGreaterThan(0);
    const smaller =
      s.config.ops < failing.config.ops ||
      s.config.cpus + s.config.vcpus + s.config.devices <
        failing.config.cpus + failing.config.vcpus + failing.config.devices ||
      [s.config.kvm, s.config.hmm, s.config.vhost].filter(Boolean).length < 3;
    expect(smaller).toBe(true);
    const replayed = await runScenario(s.config);
    expect(violationShape(replayed)).toBe(violationShape(failing));
    expect(replayed.traceHash).toBe(s.result.traceHash);
  });

  it('keeps the original when nothing smaller fails, and stays within its run budget', async () => {
    const failing = await runScenario({
      seed: 2,
      ops: 2000,
      end: 'random',
      bugs: { hmm: { skipSetSeq: true } },
    });
    expect(failing.ok).toBe(false);
    const s = await shrink(failing, 5);
    expect(s.runs).toBeLessThanOrEqual(5);
    expect(violationShape(s.result)).toBe(violationShape(failing));
  });

  it('refuses a run that did not fail', async () => {
    const ok = await runScenario({ seed: 1, ops: 200 });
    expect(ok.ok).toBe(true);
    await expect(shrink(ok)).rejects.toThrow('shrink: the run did not fail');
  });
});
