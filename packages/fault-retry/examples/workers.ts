// One file, two threads: the main thread invalidates, a worker (this same file) faults gfn 42.
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { faultWithRetry, SharedInvalidationTracker, SharedMmuLock } from '@mmukit/fault-retry';

if (isMainThread) {
  const tracker = SharedInvalidationTracker.create();
  const lock = SharedMmuLock.create();
  const hostPages = new Int32Array(new SharedArrayBuffer(64 * 4)); // gfn -> host page
  Atomics.store(hostPages, 42, 1);
  const vcpu = new Worker(new URL(import.meta.url), {
    workerData: { tracker: tracker.buffer, lock: lock.buffer, hostPages },
  });
  // Move gfn 42 to host page 2: begin under the lock, change the mapping, end under the lock.
  let release = await lock.acquire(); // Atomics.waitAsync: does not block the main thread
  tracker.begin();
  tracker.rangeAdd(0, 64);
  release();
  Atomics.store(hostPages, 42, 2);
  release = await lock.acquire();
  tracker.end();
  release();
  const [installed] = await once(vcpu, 'message');
  // 2, or 1 if the fault completed before the invalidation began (whose zap would remove it).
  console.log(`the vCPU mapped gfn 42 to host page ${installed}`);
} else {
  const tracker = SharedInvalidationTracker.from(workerData.tracker);
  const lock = SharedMmuLock.from(workerData.lock);
  const hostPages: Int32Array = workerData.hostPages;
  let spte = 0; // the secondary mapping of gfn 42
  await faultWithRetry({
    tracker,
    lock,
    gfn: 42,
    resolve: async () => Atomics.load(hostPages, 42), // may sleep in a real fault
    install: (page) => {
      spte = page;
    },
  });
  parentPort?.postMessage(spte);
}
