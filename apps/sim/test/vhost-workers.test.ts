import { Srcu } from '@mmukit/seqcount';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runScenario } from '../src/scenario.js';
import { giveUpSubscription } from '../src/secondaries/glue.js';

/** Several vhost workers: readers of one SRCU over the same rings (--vhost-workers). */
const config = { ops: 3000, end: 'random', vhostWorkers: 3 } as const;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('vhost workers', () => {
  it('run clean, and every worker reads the rings', async () => {
    const log: string[] = [];
    for (let seed = 1; seed <= 4; seed++) {
      const r = await runScenario({ ...config, seed, fullTrace: true });
      expect(r.violation?.message).toBeUndefined();
      log.push(...(r.log ?? []));
    }
    for (const worker of ['vhost', 'vhost1', 'vhost2']) {
      expect(log.some((l) => new RegExp(` ${worker} +vhost map read `).test(l))).toBe(true);
    }
  });

  it('a prefetch that gives up (maxRetries 0) captures no stack in that step, and the limit comes back', async () => {
    const limit = Error.stackTraceLimit;
    const sub = giveUpSubscription({
      tryReadBegin: () => 2,
      readBegin: () => 2,
      readRetry: (seq) => seq !== 2,
      checkRetry: (seq) => seq !== 2,
    });
    expect(sub.checkRetry?.(2)).toBe(false);
    expect(Error.stackTraceLimit).toBe(limit); // no collision: nothing changes
    expect(sub.readRetry(0)).toBe(true);
    // The rest of this step (where faultWithRetry throws FaultRetryLimitError) captures no stack.
    expect(Error.stackTraceLimit).toBe(0);
    expect(new Error('given up').stack?.split('\n')).toHaveLength(1);
    await Promise.resolve();
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('later').stack?.split('\n').length).toBeGreaterThan(1);
    let giveUps = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const r = await runScenario({ ...config, seed });
      expect(r.ok).toBe(true);
      giveUps += r.stats.retries.vhost;
      expect(Error.stackTraceLimit).toBe(limit);
    }
    expect(giveUps).toBeGreaterThan(0);
  });

  it('negative control: a grace period that ends at once is reported', async () => {
    vi.spyOn(Srcu.prototype, 'synchronize').mockReturnValue(Promise.resolve());
    let message: string | undefined;
    for (let seed = 1; seed <= 8 && message === undefined; seed++) {
      message = (await runScenario({ ...config, seed })).violation?.message;
    }
    expect(message).toMatch(/synchronize_srcu returned while a reader/);
  });

  it('rejects no worker', async () => {
    await expect(runScenario({ vhostWorkers: 0 })).rejects.toThrow(/vhostWorkers must be/);
  });
});
