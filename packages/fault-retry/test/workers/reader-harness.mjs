// The worker half of test/reader-race.ts: attach to the tracker and control block, say 'ready',
// wait for go, call `batch()` until the main thread sets stop (or 10 s pass), then post what
// `result()` returns. Control block: [0] go, [1] stop, [2] and [3] for the test.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedInvalidationTracker } from '../../dist/index.js';

/** Returns the tracker and the control block once the main thread has said go. */
export function attach() {
  const { trackerBuffer, controlBuffer } = workerData;
  const tracker = SharedInvalidationTracker.from(trackerBuffer);
  const control = new Int32Array(controlBuffer);
  parentPort.postMessage('ready');
  Atomics.wait(control, 0, 0); // returns at once if go is already 1
  return { tracker, control, trackerBuffer };
}

/** Runs `batch()` until stop (or a 10 s safety deadline), then posts `result()`. */
export function runUntilStop(control, batch, result) {
  const deadline = Date.now() + 10_000;
  while (Atomics.load(control, 1) === 0 && Date.now() < deadline) batch();
  parentPort.postMessage(result());
}
