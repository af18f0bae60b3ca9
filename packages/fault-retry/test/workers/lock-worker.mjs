// Increments a plain (non-atomic) counter `rounds` times, each read-spin-write under the lock
// (blocking lock()/unlock(), or acquire() when mode is 'async', or no lock at all when 'none').
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMmuLock } from '../../dist/index.js';

const { lockBuffer, counterBuffer, goBuffer, rounds, mode } = workerData;
const lock = SharedMmuLock.from(lockBuffer);
const counter = new Int32Array(counterBuffer);

function spin(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += i;
  return x;
}

// Start together, so that the threads really overlap.
parentPort.postMessage('ready');
Atomics.wait(new Int32Array(goBuffer), 0, 0); // returns at once if go is already 1

for (let i = 0; i < rounds; i++) {
  let release;
  if (mode === 'blocking') lock.lock();
  else if (mode === 'async') release = await lock.acquire();
  const value = counter[0]; // plain read: only the lock makes this read-modify-write safe
  spin(i % 64);
  counter[0] = value + 1;
  if (mode === 'blocking') lock.unlock();
  else if (mode === 'async') release();
}
parentPort.postMessage('done');
