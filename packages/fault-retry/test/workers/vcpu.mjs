// A vCPU worker: faults random gfns with faultWithRetry() on the shared tracker and lock, and
// checks every install against the backing page under the lock. Plain .mjs importing the
// built package, because vitest does not transpile worker sources.
import { parentPort, workerData } from 'node:worker_threads';
import { faultWithRetry, SharedInvalidationTracker, SharedMmuLock } from '../../dist/index.js';

const { trackerBuffer, lockBuffer, backingBuffer, controlBuffer, statsBuffer, index, check, seed } =
  workerData;
const tracker = SharedInvalidationTracker.from(trackerBuffer);
const lock = SharedMmuLock.from(lockBuffer);
const backing = new Int32Array(backingBuffer);
const control = new Int32Array(controlBuffer); // [0] go, [1] stop
const stats = new Int32Array(statsBuffer, index * 16, 4); // installs, stale, retries, faults
const GFNS = backing.length;

// Negative control: the same loop, with checks that always pass.
const blind = {
  snapshot: () => tracker.snapshot(),
  retryGfn: () => false,
  retryGfnUnsafe: () => false,
};

let state = seed | 0 || 1;
function random() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
}

// Widen the window between reading the page and installing it, as a real resolve would.
function spin(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += i;
  return x;
}

parentPort.postMessage('ready');
Atomics.wait(control, 0, 0); // returns at once if go was already set
const deadline = Date.now() + 10_000; // hard bound even if stop never comes

while (Atomics.load(control, 1) === 0 && Date.now() < deadline) {
  const gfn = random() % GFNS;
  const { retries } = await faultWithRetry({
    tracker: check ? tracker : blind,
    lock,
    gfn,
    backoff: () => {},
    resolve: async () => {
      const page = Atomics.load(backing, gfn);
      spin(random() % 2000);
      return page;
    },
    install: (page) => {
      Atomics.add(stats, 0, 1);
      if (page !== Atomics.load(backing, gfn)) Atomics.add(stats, 1, 1);
    },
  });
  Atomics.add(stats, 2, retries);
  Atomics.add(stats, 3, 1);
}
parentPort.postMessage('done');
