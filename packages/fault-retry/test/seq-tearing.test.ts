import { describe, expect, it } from 'vitest';
import { SharedInvalidationTracker } from '../dist/index.js';
import { raceReader } from './reader-race.js';

const READER = new URL('./workers/seq-reader.mjs', import.meta.url);

function spin(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x += i;
  return x;
}

/**
 * The main thread makes seq carry into the high word over and over, so that a reader worker
 * sees thousands of carries. Two kinds alternate:
 * - a real one: poke the low word to 0xFFFFFFFF (a single-word store, so every state stays
 *   consistent) and run begin(); end(), whose bump then takes the library's carry path;
 * - a slow one written here in the documented order (hi2, lo, hi1) with spins between the stores,
 *   which widens the window a torn read needs from a few ns to about a microsecond.
 * The worker checks that successive snapshot() values never decrease: a torn read (old high word
 * with the new low word, or the reverse) would go backwards. The same worker also reads
 * hi1-then-lo naively, the negative control, which must tear.
 */
describe('64-bit seq across threads', () => {
  it('snapshot() never tears across a carry; a naive two-word read does', {
    timeout: 20_000,
  }, async () => {
    const tracker = SharedInvalidationTracker.create();
    const words = new Int32Array(tracker.buffer, 0, 3); // hi1, lo, hi2
    let carries = 0;
    const { reads, tornLibrary, tornNaive } = await raceReader<{
      reads: number;
      tornLibrary: number;
      tornNaive: number;
    }>(READER, tracker, (control) => {
      const start = Date.now();
      // seq grows by 2^32 per carry: stop well before 2^53. At least 400 ms; up to 5 s until the
      // control has torn (a loaded machine may not run both threads at once for a while).
      const more = () =>
        carries < 2 ** 20 &&
        (Date.now() - start < 400 || (Atomics.load(control, 3) === 0 && Date.now() - start < 5000));
      while (more()) {
        for (let i = 0; i < 100; i++) {
          Atomics.store(words, 1, -1);
          tracker.begin();
          tracker.end(); // library carry
          const hi = Atomics.load(words, 2) + 1;
          Atomics.store(words, 1, -1);
          spin(1000); // let the reader see (hi - 1, 0xFFFFFFFF), so a torn (hi - 1, 0) goes back
          Atomics.store(words, 2, hi); // slow carry: hi2 ...
          spin(1000);
          Atomics.store(words, 1, 0); // ... lo ...
          spin(1000);
          Atomics.store(words, 0, hi); // ... hi1
          carries += 2;
        }
      }
    });
    expect(tracker.seq).toBe(carries * 2 ** 32);
    expect(reads).toBeGreaterThan(10_000);
    expect(tornLibrary).toBe(0); // library: never backwards
    expect(tornNaive).toBeGreaterThan(0); // naive: torn reads seen
  });
});
