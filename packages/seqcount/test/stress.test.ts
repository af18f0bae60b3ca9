import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStress, type StressStats, terminateStressWorkers } from './stress-harness.js';

/**
 * Cross-worker stress test (workers import the BUILT dist/): one writer rewrites a 256-word
 * record whose consistent states satisfy a checksum; two readers use the SharedSeqCount
 * protocol with Atomics data loads, one reads the same record without the protocol.
 */
describe('SharedSeqCount across worker_threads (stress)', () => {
  let stats: StressStats[] = [];

  beforeAll(async () => {
    stats = await runStress({
      roles: ['writer', 'protocol', 'protocol', 'unprotected'],
      words: 256,
      durationMs: 1500,
      gap: 256,
    });
  }, 20_000);

  afterAll(terminateStressWorkers);

  it('the writer made progress', () => {
    const writer = stats.find((s) => s.role === 'writer');
    expect(writer?.writes).toBeGreaterThan(1000);
  });

  it('readers that pass readRetry never see a torn record, over many successful reads', () => {
    const readers = stats.filter((s) => s.role === 'protocol');
    expect(readers).toHaveLength(2);
    for (const r of readers) {
      expect(r.torn).toBe(0);
      expect(r.ok).toBeGreaterThan(1000);
    }
  });

  it('negative control: the same reads without the protocol do observe torn records', () => {
    const control = stats.find((s) => s.role === 'unprotected');
    expect(control?.torn).toBeGreaterThan(0);
  });
});
