// Reads, in this order, the number of begun invalidations, inProgress and seq, like a fault
// checking after the invalidator's begin() was published. If inProgress is 0, every begun
// invalidation has ended, so seq must be at least the number begun: else end() dropped the
// count before it bumped seq.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedInvalidationTracker } from '../../dist/index.js';

const { trackerBuffer, controlBuffer } = workerData;
const tracker = SharedInvalidationTracker.from(trackerBuffer);
const control = new Int32Array(controlBuffer); // [0] go, [1] stop, [2] begun, [3] violations

parentPort.postMessage('ready');
Atomics.wait(control, 0, 0);
let checks = 0;
let idleChecks = 0;
let violations = 0;
const deadline = Date.now() + 10_000;
while (Atomics.load(control, 1) === 0 && Date.now() < deadline) {
  for (let i = 0; i < 256; i++) {
    const begun = Atomics.load(control, 2);
    const inProgress = tracker.inProgress;
    const seq = tracker.seq;
    checks++;
    if (inProgress === 0) {
      idleChecks++;
      if (seq < begun) {
        violations++;
        Atomics.add(control, 3, 1);
      }
    }
  }
}
parentPort.postMessage({ checks, idleChecks, violations });
