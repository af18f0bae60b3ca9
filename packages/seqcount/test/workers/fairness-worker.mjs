// One thread of test/fairness-workers.test.ts. workerData:
//   { sab, role: 'writer' | 'reader', kind: 'mutex' | 'barging' | 'seqlock', mode: 'sync' | 'async',
//     acquisitions, maxMs, work, maxOptimisticReads }
// The lock lives at byte 0 of `sab` (a SharedMutex, the BargingMutex control, or a SharedSeqLock
// for kind 'seqlock'); control words follow (record.mjs: GO, STOP; SECTIONS, ARRIVED below).
//
// writer: takes the lock again right after releasing it, until STOP. Section j sets SECTIONS to j
//   and spins `work` iterations. The lock's words (0..2) can change during a section only through
//   another thread arriving: taking a ticket, announcing itself as a waiter, registering as a
//   reader parked on the sequence. If they changed, the writer records j in ARRIVED (if empty).
// reader: `acquisitions` times (or until maxMs): takes the lock and reads SECTIONS under it, or
//   does a SharedSeqLock read of SECTIONS (c1: sections completed before it got in); then
//   ARRIVED = j, if the writer saw it arrive, and c1 - j writer sections began after its arrival
//   and completed before it got in. The count does not depend on how long anything took.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMutex, SharedSeqLock } from '../../dist/index.js';
import { BargingMutex } from './barging-mutex.mjs';
import { CONTROL_BYTES, STOP, waitForGo } from './record.mjs';

const SECTIONS = 6; // Int32 indexes in the control words (record.mjs uses GO = 4, STOP = 5)
const ARRIVED = 7;

const { sab, role, kind, mode, acquisitions, maxMs, work, maxOptimisticReads } = workerData;
const ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
const lock =
  kind === 'seqlock'
    ? SharedSeqLock.from(sab, 0, { maxOptimisticReads })
    : kind === 'mutex'
      ? SharedMutex.from(sab, 0)
      : new BargingMutex(sab);

let sink = 0;
const section = () => {
  const a0 = Atomics.load(ctl, 0);
  const a1 = Atomics.load(ctl, 1);
  const a2 = Atomics.load(ctl, 2);
  const j = Atomics.add(ctl, SECTIONS, 1) + 1;
  for (let i = 0; i < work; i++) sink += i;
  if (Atomics.load(ctl, 0) !== a0 || Atomics.load(ctl, 1) !== a1 || Atomics.load(ctl, 2) !== a2) {
    Atomics.compareExchange(ctl, ARRIVED, 0, j);
  }
};
const sections = () => Atomics.load(ctl, SECTIONS);

parentPort.postMessage({ ready: true });
waitForGo(ctl);

if (role === 'writer') {
  let n = 0;
  while (Atomics.load(ctl, STOP) === 0) {
    if (kind === 'seqlock') lock.write(section);
    else {
      lock.lock();
      section();
      lock.unlock();
    }
    n++;
  }
  parentPort.postMessage({ done: true, sections: n, sink: sink & 1 });
} else {
  const deadline = performance.now() + maxMs;
  const counts = [];
  let reads = 0;
  while (counts.length < acquisitions && performance.now() < deadline) {
    let c1;
    if (kind === 'seqlock') {
      c1 = mode === 'sync' ? lock.read(sections) : await lock.readAsync(sections);
    } else {
      if (mode === 'sync') lock.lock();
      else await lock.lockAsync();
      c1 = sections();
      lock.unlock();
    }
    reads++;
    // Everything this read did to the lock's words happened before it returned, and the writer
    // records a change before its section ends, which the read waited for: ARRIVED is this read's.
    const j = Atomics.exchange(ctl, ARRIVED, 0);
    if (j !== 0) counts.push(c1 - j);
    // Arrive at a different point of the writer's loop each time.
    const until = performance.now() + 0.05 + Math.random() * 0.1;
    while (performance.now() < until);
  }
  counts.sort((a, b) => a - b);
  parentPort.postMessage({
    done: true,
    reads,
    waited: counts.length,
    max: counts.at(-1) ?? 0,
    median: counts[counts.length >> 1] ?? 0,
  });
}
