import { Srcu } from '@mmukit/seqcount';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runScenario } from '../src/scenario.js';

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
