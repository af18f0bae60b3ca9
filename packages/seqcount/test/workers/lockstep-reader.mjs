// The reader of the lockstep test in test/fairness-workers.test.ts. workerData: { sab, mode }.
// A SharedSeqLock (3 lockless attempts) at byte 0 of `sab`, whose record is the word at byte 12
// (set to 42 here before the read); does one read() or readAsync() of it and posts the value and
// how many times the callback ran.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedSeqLock } from '../../dist/index.js';

const { sab, mode } = workerData;
const lock = SharedSeqLock.from(sab, 0, { maxOptimisticReads: 3 });
const rec = new Int32Array(sab, SharedSeqLock.BYTES, 1);
Atomics.store(rec, 0, 42);
let calls = 0;
const fn = () => {
  calls++;
  return Atomics.load(rec, 0);
};
const value = mode === 'sync' ? lock.read(fn) : await lock.readAsync(fn);
parentPort.postMessage({ value, calls });
