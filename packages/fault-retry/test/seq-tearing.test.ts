import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedInvalidationTracker } from '../dist/index.js';

const READER = new URL('./workers/seq-reader.mjs', import.meta.url);

/**
 * The main thread makes seq carry into the high word over and over: it pokes the low word to
 * 0xFFFFFFFF (a single-word store, so every state stays consistent) and runs begin(); end(),
 * whose bump then takes the carry path (hi2, lo, hi1). A reader worker checks that successive
 * snapshots never decrease; a torn read (old high word with the new low word, or the reverse)
 * would go backwards. The same worker reads hi-then-lo naively as the negative control.
 */
describe('64-bit seq across threads', () => {
  it('snapshot() never tears across a carry; a naive two-word read does', {
    timeout: 20_000,
  }, async () => {
    const tracker = SharedInvalidationTracker.create();
    const lo = new Int32Array(tracker.buffer, 4, 1);
    const control = new Int32Array(new SharedArrayBuffer(16));
    const worker = new Worker(READER, {
      workerData: { trackerBuffer: tracker.buffer, controlBuffer: control.buffer },
    });
    try {
      const result = new Promise<{ reads: number }>((resolve, reject) => {
        worker.on('message', (m) => {
          if (m !== 'ready') resolve(m);
        });
        worker.on('error', reject);
      });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      Atomics.store(control, 0, 1);
      Atomics.notify(control, 0);
      const start = Date.now();
      let carries = 0;
      // At least 400 ms; up to 3 s until the control has torn (a loaded machine is slower).
      // seq grows by 2^32 per carry: stop well before 2^53.
      const more = () =>
        carries < 2 ** 20 &&
        (Date.now() - start < 400 || (Atomics.load(control, 3) === 0 && Date.now() - start < 3000));
      while (more()) {
        for (let i = 0; i < 1000; i++) {
          Atomics.store(lo, 0, -1);
          tracker.begin();
          tracker.end();
          carries++;
        }
      }
      Atomics.store(control, 1, 1);
      const { reads } = await result;
      expect(tracker.seq).toBe(carries * 2 ** 32);
      expect(reads).toBeGreaterThan(10_000);
      expect(Atomics.load(control, 2)).toBe(0); // library: never backwards
      expect(Atomics.load(control, 3)).toBeGreaterThan(0); // naive: torn reads seen
    } finally {
      await worker.terminate();
    }
  });
});
