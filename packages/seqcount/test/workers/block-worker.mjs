// Blocks on a shared structure owned by the main thread, then reports. workerData:
//   { sab, role: 'readBegin' | 'lock' }
// 'readBegin': SharedSeqCount at byte 0; posts the value readBegin() returned.
// 'lock': SharedMutex at byte 0; takes it (parking while main holds it), posts, and releases it.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMutex, SharedSeqCount } from '../../dist/index.js';

const { sab, role } = workerData;
if (role === 'readBegin') {
  const seq = SharedSeqCount.from(sab);
  parentPort.postMessage({ started: true });
  parentPort.postMessage({ value: seq.readBegin() });
} else {
  const mutex = SharedMutex.from(sab);
  parentPort.postMessage({ started: true });
  mutex.lock();
  parentPort.postMessage({ value: 'locked' });
  mutex.unlock();
}
