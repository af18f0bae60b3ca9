// Reads seq in a loop two ways, checking that successive values never go backwards:
// the library's snapshot() (hi1, lo, hi2 check) and a naive hi-then-lo read (negative control).
// Control: [2] library torn, [3] naive torn.
import { attach, runUntilStop } from './reader-harness.mjs';

const { tracker, control, trackerBuffer } = attach();
const words = new Int32Array(trackerBuffer, 0, 3); // hi1, lo, hi2
let reads = 0;
let lastLibrary = 0;
let lastNaive = 0;
runUntilStop(
  control,
  () => {
    // Alternate batches: snapshot() spins while a carry is half done, so naive reads interleaved
    // with it one by one would never land inside the window.
    for (let i = 0; i < 256; i++) {
      const naive = Atomics.load(words, 0) * 2 ** 32 + (Atomics.load(words, 1) >>> 0);
      if (naive < lastNaive) Atomics.add(control, 3, 1);
      lastNaive = naive;
    }
    for (let i = 0; i < 256; i++) {
      const v = tracker.snapshot();
      if (v < lastLibrary) Atomics.add(control, 2, 1);
      lastLibrary = v;
      reads++;
    }
  },
  () => ({ reads, tornLibrary: Atomics.load(control, 2), tornNaive: Atomics.load(control, 3) }),
);
