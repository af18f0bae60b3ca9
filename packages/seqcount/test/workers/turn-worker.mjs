// One thread of test/claim-timeout-workers.test.ts. workerData:
//   { sab, role, claimTimeoutMs, busyMs, rounds }
// A SharedMutex at byte 0 of `sab` (this view with `claimTimeoutMs`); Int32 control words:
// ORDER counts acquisitions, COUNTER is bumped with plain (non-atomic) reads and writes, GO
// starts the stress workers together.
// 'lock': posts { started }, lock(), posts { rank } (its place in ORDER), unlock().
// 'lockAsync-busy': calls lockAsync() (taking its place in line), posts { started }, keeps its
//   event loop busy for busyMs, then awaits the lock, posts { rank }, unlock().
// 'stress': `rounds` times lock() / lockAsync() / tryLock() in turn (a failed tryLock skips the
//   round), then an unprotected read-spin-write of COUNTER under the lock; posts { done, rounds }.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMutex } from '../../dist/index.js';

const ORDER = 4;
const COUNTER = 5;
const GO = 6;

const { sab, role, claimTimeoutMs, busyMs, rounds } = workerData;
const ctl = new Int32Array(sab);
const mutex = SharedMutex.from(sab, 0, { claimTimeoutMs });
const busy = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

if (role === 'lock') {
  parentPort.postMessage({ started: true });
  mutex.lock();
  parentPort.postMessage({ rank: Atomics.add(ctl, ORDER, 1) + 1 });
  mutex.unlock();
} else if (role === 'lockAsync-busy') {
  const locked = mutex.lockAsync();
  parentPort.postMessage({ started: true });
  busy(busyMs); // the turn comes while the event loop cannot run the claim
  await locked;
  parentPort.postMessage({ rank: Atomics.add(ctl, ORDER, 1) + 1 });
  mutex.unlock();
} else {
  parentPort.postMessage({ started: true });
  while (Atomics.load(ctl, GO) === 0) Atomics.wait(ctl, GO, 0, 10);
  let done = 0;
  let sink = 0;
  for (let i = 0; i < rounds; i++) {
    const how = i % 3;
    if (how === 0) mutex.lock();
    else if (how === 1) await mutex.lockAsync();
    else if (!mutex.tryLock()) continue;
    const value = ctl[COUNTER];
    for (let k = 0; k < i % 50; k++) sink += k;
    ctl[COUNTER] = value + 1;
    mutex.unlock();
    done++;
  }
  parentPort.postMessage({ done: true, rounds: done, sink: sink & 1 });
}
