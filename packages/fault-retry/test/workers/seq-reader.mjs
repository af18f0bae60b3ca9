// Reads seq in a loop two ways, checking that successive values never go backwards:
// the library's snapshot() (hi1, lo, hi2 check) and a naive hi-then-lo read (negative control).
import { parentPort, workerData } from 'node:worker_threads';
import { SharedInvalidationTracker } from '../../dist/index.js';

const { trackerBuffer, controlBuffer } = workerData;
const tracker = SharedInvalidationTracker.from(trackerBuffer);
const words = new Int32Array(trackerBuffer, 0, 3); // hi1, lo, hi2
const control = new Int32Array(controlBuffer); // [0] go, [1] stop, [2] library torn, [3] naive torn

parentPort.postMessage('ready');
Atomics.wait(control, 0, 0);
let reads = 0;
let lastLibrary = 0;
let lastNaive = 0;
const deadline = Date.now() + 10_000;
while (Atomics.load(control, 1) === 0 && Date.now() < deadline) {
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
}
parentPort.postMessage({ reads });
