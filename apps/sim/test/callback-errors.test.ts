import { MmuNotifierSubscriptions, UnbalancedEndError } from '@mmukit/mmu-notifier';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runScenario } from '../src/scenario.js';

/**
 * Injected callback failures (--callback-errors): an HMM or KVM invalidation callback throws; the
 * core undoes the start and rejects with NotifierCallbackError; the primary checks the start was
 * undone (its range has nothing to end) and starts again.
 */
const config = { ops: 2000, end: 'random', callbackErrors: 0.05 } as const;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('failing invalidation callbacks', () => {
  it('are undone and retried: the runs stay clean and the failures happen', async () => {
    let failures = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const r = await runScenario({ ...config, seed, fullTrace: true });
      expect(r.violation?.message).toBeUndefined();
      expect(r.final.invalidateSeq % 2).toBe(0);
      failures += r.stats.callbackErrors;
      // Each failed start is in the trace, and a start can fail with more than one callback.
      const failed = r.log!.filter((l) => / invalidate start failed /.test(l)).length;
      expect(failed).toBeLessThanOrEqual(r.stats.callbackErrors);
      expect(failed > 0).toBe(r.stats.callbackErrors > 0);
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('negative control: a start left half done (its range can still be ended) is reported', async () => {
    const end = MmuNotifierSubscriptions.prototype.invalidateRangeEnd;
    vi.spyOn(MmuNotifierSubscriptions.prototype, 'invalidateRangeEnd').mockImplementation(function (
      this: MmuNotifierSubscriptions,
      range,
    ) {
      try {
        end.call(this, range);
      } catch (error) {
        if (!(error instanceof UnbalancedEndError)) throw error;
      }
    });
    let message: string | undefined;
    for (let seed = 1; seed <= 6 && message === undefined; seed++) {
      message = (await runScenario({ ...config, seed })).violation?.message;
    }
    expect(message).toMatch(/accepted the range of a start that failed/);
  });

  it('rejects a chance outside [0, 1]', async () => {
    await expect(runScenario({ callbackErrors: -0.1 })).rejects.toThrow(
      /callbackErrors must be a chance/,
    );
  });
});
