// A background thread for bench/run.ts and bench/reader-wait.ts. workerData:
//   { sab, role: 'writer' | 'reader-a' | 'reader-b' | 'seqlock-writer', words, gap, sectionUs }
// reader-a: Atomics.load data + readRetry; reader-b: plain data + readRetryFenced.
// seqlock-writer: SharedSeqLock.write() sections back to back, each busy for sectionUs µs; also
//   reports the longest section (µs, wall clock: a section preempted by the OS lasts longer).
// Runs until main sets STOP; reports how many writes / validated reads / retries it did.
import { parentPort, workerData } from 'node:worker_threads';
import { loadWords, SharedSeqCount, SharedSeqLock } from '../../dist/index.js';
import { CONTROL_BYTES, STOP, storeRecord, waitForGo } from '../../test/workers/record.mjs';

const { sab, role, words, gap, sectionUs } = workerData;
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
let longest = 0;
if (role === 'seqlock-writer') {
  const lock = SharedSeqLock.from(sab, 0);
  let c = 0;
  const section = () => {
    const start = performance.now();
    const end = start + sectionUs / 1000;
    storeRecord(rec, ++c);
    let now = start;
    while (now < end) now = performance.now();
    longest = Math.max(longest, (now - start) * 1000);
  };
  while (Atomics.load(ctl, STOP) === 0) {
    lock.write(section);
    writes++;
  }
} else if (role === 'writer') {
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
parentPort.postMessage({ writes, reads, retries, sink, longest });
