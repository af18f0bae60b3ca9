// Blocks on a shared structure owned by the main thread, then reports. workerData:
//   { sab, role: 'readBegin' | 'readBeginWait' | 'lock' | 'lockAsync' | 'rawWaitAsync' }
// 'readBegin' / 'readBeginWait': SharedSeqCount at byte 0; posts the value the read returned.
// 'lock' / 'lockAsync': SharedMutex at byte 0; takes it (waiting while main holds it), posts,
//   and releases it.
// 'rawWaitAsync': a bare Atomics.waitAsync on word 0 (no keep-alive): the control showing that
//   Node lets such a worker exit before it is woken.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMutex, SharedSeqCount } from '../../dist/index.js';

const { sab, role } = workerData;
if (role === 'readBegin' || role === 'readBeginWait') {
  const seq = SharedSeqCount.from(sab);
  parentPort.postMessage({ started: true });
  const value = role === 'readBegin' ? seq.readBegin() : await seq.readBeginWait();
  parentPort.postMessage({ value });
} else if (role === 'rawWaitAsync') {
  const words = new Int32Array(sab);
  const waited = Atomics.waitAsync(words, 0, Atomics.load(words, 0));
  parentPort.postMessage({ started: true });
  await waited.value;
  parentPort.postMessage({ value: 'woken' });
} else {
  const mutex = SharedMutex.from(sab);
  parentPort.postMessage({ started: true });
  if (role === 'lock') mutex.lock();
  else await mutex.lockAsync();
  parentPort.postMessage({ value: 'locked' });
  mutex.unlock();
}
