import { Worker } from 'node:worker_threads';
import type { SharedInvalidationTracker } from '../dist/index.js';

/** Words of the control block shared with a reader worker (see workers/reader-harness.mjs). */
export const GO = 0;
export const STOP = 1;

/**
 * Races this thread against a reader worker over one SharedInvalidationTracker: starts
 * `readerUrl` with the tracker's buffer and a 4-word control block ([0] go, [1] stop, [2] and
 * [3] for the test), waits until the worker is ready, releases it (go), runs `main(control)`
 * here, then sets stop and resolves to the worker's final message. The worker is terminated in
 * every case.
 */
export async function raceReader<R>(
  readerUrl: URL,
  tracker: SharedInvalidationTracker,
  main: (control: Int32Array) => void,
): Promise<R> {
  const control = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(readerUrl, {
    workerData: { trackerBuffer: tracker.buffer, controlBuffer: control.buffer },
  });
  try {
    const result = new Promise<R>((resolve, reject) => {
      worker.on('message', (m) => {
        if (m !== 'ready') resolve(m as R);
      });
      worker.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    Atomics.store(control, GO, 1);
    Atomics.notify(control, GO);
    main(control);
    Atomics.store(control, STOP, 1);
    return await result;
  } finally {
    await worker.terminate();
  }
}
