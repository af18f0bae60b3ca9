import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runStress,
  type StressRole,
  type StressStats,
  terminateStressWorkers,
} from './stress-harness.js';

/**
 * Cross-worker stress tests (workers import the BUILT dist/): one writer rewrites a 256-word
 * record whose consistent states satisfy a checksum; two readers use the SharedSeqCount protocol,
 * one reads the same record the same way without the protocol (the negative control).
 * Approach A: Atomics data accesses + readRetry. Approach B: plain data accesses + readRetryFenced.
 */
const cases: Array<{ name: string; reader: StressRole; writerStores: 'atomic' | 'plain' }> = [
  {
    name: 'approach A: Atomics.load/store data, readRetry',
    reader: 'protocol',
    writerStores: 'atomic',
  },
  {
    name: 'approach B: plain data reads and writes, readRetryFenced',
    reader: 'fenced',
    writerStores: 'plain',
  },
];

afterAll(terminateStressWorkers);

for (const c of cases) {
  describe(`SharedSeqCount across worker_threads, ${c.name}`, () => {
    let stats: StressStats[] = [];

    beforeAll(async () => {
      stats = await runStress({
        roles: ['writer', c.reader, c.reader, 'unprotected'],
        words: 256,
        durationMs: 1000,
        gap: 256,
        writerStores: c.writerStores,
      });
    }, 20_000);

    it('the writer made progress', () => {
      expect(stats.find((s) => s.role === 'writer')?.writes).toBeGreaterThan(500);
    });

    it('readers that pass the retry check never return a torn record, over many reads', () => {
      const readers = stats.filter((s) => s.role === c.reader);
      expect(readers).toHaveLength(2);
      for (const r of readers) {
        expect(r.torn).toBe(0);
        expect(r.ok).toBeGreaterThan(500);
      }
    });

    it('negative control: the same reads without the protocol do observe torn records', () => {
      expect(stats.find((s) => s.role === 'unprotected')?.torn).toBeGreaterThan(0);
    });
  });
}
