// A background thread for bench/run.ts. workerData:
//   { sab, role: 'writer' | 'reader-a' | 'reader-b', words, gap }
// reader-a: Atomics.load data + readRetry; reader-b: plain data + readRetryFenced.
// Runs until main sets STOP; reports how many writes / validated reads / retries it did.
import { parentPort, workerData } from 'node:worker_threads';
import { loadWords, SharedSeqCount } from '../../dist/index.js';
import { CONTROL_BYTES, STOP, storeRecord, waitForGo } from '../../test/workers/record.mjs';

const { sab, role, words, gap } = workerData;
const seq = SharedSeqCount.from(sab, 0);
const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const rec = new Int32Array(sab, CONTROL_BYTES, words);
const copy = new Int32Array(words);
parentPort.postMessage({ ready: true });
waitForGo(ctl);
let writes = 0;
let reads = 0;
let retries = 0;
let sink = 0;
if (role === 'writer') {
  let c = 0;
  while (Atomics.load(ctl, STOP) === 0) {
    seq.writeBegin();
    storeRecord(rec, ++c);
    seq.writeEnd();
    writes++;
    for (let i = 0; i < gap; i++) sink += Atomics.load(rec, 0);
  }
} else if (role === 'reader-a') {
  while (Atomics.load(ctl, STOP) === 0) {
    const start = seq.readBegin();
    loadWords(rec, 0, copy);
    if (seq.readRetry(start)) retries++;
    else reads++;
  }
} else {
  while (Atomics.load(ctl, STOP) === 0) {
    const start = seq.readBegin();
    for (let i = 0; i < words; i++) copy[i] = rec[i];
    if (seq.readRetryFenced(start)) retries++;
    else reads++;
  }
}
parentPort.postMessage({ writes, reads, retries, sink });
