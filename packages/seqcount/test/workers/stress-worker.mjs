// One thread of the cross-worker stress test. workerData:
//   { sab, role, words, maxMs, gap, writerStores: 'atomic' | 'plain' }
// role: 'writer'; or a reader:
//   'protocol'        readBegin / Atomics.load data / readRetry          (approach A)
//   'fenced'          readBegin / plain data loads / readRetryFenced     (approach B)
//   'plain-protocol'  readBegin / plain data loads / readRetry           (not guaranteed)
//   'unprotected'     the same data loads with no protocol               (negative control)
// The SharedSeqCount lives at byte 0 of `sab`, control words after it, the record at CONTROL_BYTES.
import { parentPort, workerData } from 'node:worker_threads';
import { loadWords, SharedSeqCount } from '../../dist/index.js';
import {
  CONTROL_BYTES,
  isTorn,
  STOP,
  storeRecord,
  storeRecordPlain,
  waitForGo,
} from './record.mjs';

const { sab, role, words, maxMs, gap, writerStores } = workerData;
const seq = SharedSeqCount.from(sab, 0);
const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const rec = new Int32Array(sab, CONTROL_BYTES, words);
const copy = new Int32Array(words);
const store = writerStores === 'plain' ? storeRecordPlain : storeRecord;

// The all-zero buffer is not a consistent record: the writer stores state 0 before anyone starts.
if (role === 'writer') storeRecord(rec, 0);
parentPort.postMessage({ ready: true });
waitForGo(ctl);
const deadline = performance.now() + maxMs; // a safety net; main normally sets STOP first
const stopped = () => Atomics.load(ctl, STOP) !== 0 || performance.now() > deadline;

const stats = { role, writes: 0, ok: 0, torn: 0, retries: 0 };
let sink = 0;

function plainCopy() {
  for (let i = 0; i < words; i++) copy[i] = rec[i];
}

if (role === 'writer') {
  let c = 0;
  while (!stopped()) {
    seq.writeBegin();
    store(rec, ++c);
    seq.writeEnd();
    stats.writes++;
    // Leave readers a window between sections (otherwise protocol readers mostly wait).
    for (let i = 0; i < gap; i++) sink += Atomics.load(rec, i % words);
  }
} else {
  while (!stopped()) {
    if (role === 'unprotected') {
      if (writerStores === 'plain') plainCopy();
      else loadWords(rec, 0, copy);
    } else {
      const start = seq.readBegin();
      let retry;
      if (role === 'protocol') {
        loadWords(rec, 0, copy);
        retry = seq.readRetry(start);
      } else if (role === 'fenced') {
        plainCopy();
        retry = seq.readRetryFenced(start);
      } else {
        plainCopy();
        retry = seq.readRetry(start);
      }
      if (retry) {
        stats.retries++;
        continue;
      }
    }
    if (isTorn(copy)) stats.torn++;
    else stats.ok++;
  }
}
parentPort.postMessage({ done: true, stats, sink });
