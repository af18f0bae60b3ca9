// One thread of the cross-worker stress test. workerData:
//   { sab, role: 'writer' | 'protocol' | 'plain-protocol' | 'unprotected', words, maxMs, gap }
// The SharedSeqCount lives at byte 0 of `sab`, control words after it, the record at CONTROL_BYTES.
import { parentPort, workerData } from 'node:worker_threads';
import { loadWords, SharedSeqCount } from '../../dist/index.js';
import { CONTROL_BYTES, isTorn, STOP, storeRecord, waitForGo } from './record.mjs';

const { sab, role, words, maxMs, gap } = workerData;
const seq = SharedSeqCount.from(sab, 0);
const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const rec = new Int32Array(sab, CONTROL_BYTES, words);
const copy = new Int32Array(words);

// The all-zero buffer is not a consistent record: the writer stores state 0 before anyone starts.
if (role === 'writer') storeRecord(rec, 0);
parentPort.postMessage({ ready: true });
waitForGo(ctl);
const deadline = performance.now() + maxMs; // a safety net; main normally sets STOP first
const stopped = () => Atomics.load(ctl, STOP) !== 0 || performance.now() > deadline;

const stats = { role, writes: 0, ok: 0, torn: 0, retries: 0 };
let sink = 0;

if (role === 'writer') {
  let c = 0;
  while (!stopped()) {
    seq.writeBegin();
    storeRecord(rec, ++c);
    seq.writeEnd();
    stats.writes++;
    // Leave readers a window between sections (otherwise protocol readers mostly wait).
    for (let i = 0; i < gap; i++) sink += Atomics.load(rec, i % words);
  }
} else {
  while (!stopped()) {
    if (role === 'unprotected') {
      loadWords(rec, 0, copy); // the same reads, no protocol: the negative control
    } else {
      const start = seq.readBegin();
      if (role === 'protocol') loadWords(rec, 0, copy);
      else for (let i = 0; i < words; i++) copy[i] = rec[i]; // plain (non-Atomics) data reads
      if (seq.readRetry(start)) {
        stats.retries++;
        continue;
      }
    }
    if (isTorn(copy)) stats.torn++;
    else stats.ok++;
  }
}
parentPort.postMessage({ done: true, stats, sink });
