// Benchmark worker: runs one tracker operation in a loop until told to stop, counts iterations.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedInvalidationTracker, SharedMmuLock } from '../../dist/index.js';

const { trackerBuffer, lockBuffer, controlBuffer, countsBuffer, index, mode } = workerData;
const tracker = SharedInvalidationTracker.from(trackerBuffer);
const lock = SharedMmuLock.from(lockBuffer);
const control = new Int32Array(controlBuffer); // [0] go, [1] stop
const counts = new Float64Array(countsBuffer);

parentPort.postMessage('ready');
Atomics.wait(control, 0, 0);
let n = 0;
let sink = 0;
let gfn = index * 7;
while (Atomics.load(control, 1) === 0) {
  for (let i = 0; i < 1024; i++) {
    gfn = (gfn + 13) & 1023;
    const seq = tracker.snapshot();
    if (mode === 'lockless') {
      if (tracker.retryGfnUnsafe(seq, gfn)) sink++;
    } else {
      lock.lock();
      if (tracker.retryGfn(seq, gfn)) sink++;
      lock.unlock();
    }
  }
  n += 1024;
}
counts[index] = n;
parentPort.postMessage({ sink });
