// One file, two threads: the main thread writes a record, a worker (this same file) reads it.
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadWords, SharedSeqLock, storeWords } from '@mmukit/seqcount';

const WORDS = 8;

if (isMainThread) {
  const sab = new SharedArrayBuffer(SharedSeqLock.BYTES + WORDS * 4);
  const lock = SharedSeqLock.from(sab); // the lock at byte 0 ...
  const rec = new Int32Array(sab, SharedSeqLock.BYTES, WORDS); // ... the record right after it
  // async: never blocks the event loop
  await lock.writeAsync(() => storeWords(rec, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
  const reader = new Worker(new URL(import.meta.url), { workerData: sab });
  await lock.writeAsync(() => storeWords(rec, 0, [9, 9, 9, 9, 9, 9, 9, 9])); // races the reader
  const [copy] = await once(reader, 'message');
  console.log(copy); // one of the two records, never a mix
} else {
  // A worker may block in Atomics.wait: read() waits synchronously when it must.
  const lock = SharedSeqLock.from(workerData);
  const rec = new Int32Array(workerData, SharedSeqLock.BYTES, WORDS);
  const out = new Int32Array(WORDS);
  lock.read(() => loadWords(rec, 0, out)); // out is an untorn copy
  parentPort?.postMessage([...out]);
}
