// One thread of the SharedSeqLock cross-worker test. workerData:
//   { sab, role: 'locked-writer' | 'unlocked-writer' | 'reader', words, maxMs }
// Every role runs until main sets STOP (or maxMs passes) and reports its counts.
// The SharedSeqLock lives at byte 0 of `sab`, control words after it, the record at CONTROL_BYTES.
// Writers do read-modify-write updates (c = word 0 + 1), so unserialized writers lose updates.
import { parentPort, workerData } from 'node:worker_threads';
import { loadWords, SharedSeqLock } from '../../dist/index.js';
import { CONTROL_BYTES, isTorn, STOP, storeRecord, waitForGo } from './record.mjs';

const { sab, role, words, maxMs } = workerData;
const lock = SharedSeqLock.from(sab, 0, { maxOptimisticReads: 3 });
const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const rec = new Int32Array(sab, CONTROL_BYTES, words);
const copy = new Int32Array(words);

parentPort.postMessage({ ready: true });
waitForGo(ctl);
const deadline = performance.now() + maxMs;
const stats = { role, writes: 0, ok: 0, torn: 0 };

const update = () => storeRecord(rec, Atomics.load(rec, 0) + 1);
const snapshot = () => loadWords(rec, 0, copy);

const running = () => Atomics.load(ctl, STOP) === 0 && performance.now() < deadline;
if (role === 'reader') {
  while (running()) {
    lock.read(snapshot);
    if (isTorn(copy)) stats.torn++;
    else stats.ok++;
  }
} else if (role === 'locked-writer') {
  while (running()) {
    lock.write(update);
    stats.writes++;
  }
} else {
  while (running()) {
    update();
    stats.writes++;
  }
}
parentPort.postMessage({ done: true, stats });
