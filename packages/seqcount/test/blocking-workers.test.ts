import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedMutex } from '../src/shared-mutex.js';
import { SharedSeqCount } from '../src/shared-seqcount.js';

const workerUrl = new URL('./workers/block-worker.mjs', import.meta.url);
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

/** Start the worker; resolves its first result message (after its 'started' message). */
function start(
  sab: SharedArrayBuffer,
  role: 'readBegin' | 'readBeginWait' | 'lock' | 'lockAsync' | 'rawWaitAsync',
) {
  const w = new Worker(workerUrl, { workerData: { sab, role } });
  worker = w;
  let result: unknown;
  let exitCode: number | undefined;
  w.on('exit', (code) => {
    exitCode = code;
  });
  const started = new Promise<void>((resolve) => {
    w.on('message', (m: { started?: boolean; value?: unknown }) => {
      if (m.started) resolve();
      else result = m.value;
    });
  });
  return { started, result: () => result, exitCode: () => exitCode };
}

/** Threads holding or waiting for the mutex whose word is word[0] (src/ticket-turn.ts). */
const queued = (word: Int32Array) => {
  const v = Atomics.load(word, 0);
  return ((v >>> 16) - ((v >>> 1) & 0x7fff)) & 0x7fff;
};

/** Poll `cond` every 2 ms for at most `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  return cond();
}

describe('blocking waits across threads', () => {
  it('SharedSeqCount.readBegin() parks a worker during a write and writeEnd() wakes it', async () => {
    const seq = SharedSeqCount.create();
    const words = new Int32Array(seq.buffer);
    seq.writeBegin();
    const w = start(seq.buffer, 'readBegin');
    await w.started;
    // The worker registers in word 1 before parking in Atomics.wait.
    expect(await until(() => words[1] === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(w.result()).toBeUndefined(); // still blocked
    seq.writeEnd();
    expect(await until(() => w.result() !== undefined)).toBe(true);
    expect(w.result()).toBe(2);
    expect(await until(() => words[1] === 0)).toBe(true);
  }, 10_000);

  it('SharedMutex.lock() parks a worker (a second ticket) until the holder unlocks', async () => {
    const mutex = SharedMutex.create();
    const word = new Int32Array(mutex.buffer);
    mutex.lock();
    const w = start(mutex.buffer, 'lock');
    await w.started;
    expect(await until(() => queued(word) === 2)).toBe(true); // the worker queued behind us
    await new Promise((r) => setTimeout(r, 30));
    expect(w.result()).toBeUndefined();
    mutex.unlock();
    expect(await until(() => w.result() === 'locked')).toBe(true);
    expect(await until(() => !mutex.locked)).toBe(true); // the worker released it
  }, 10_000);

  // A pending Atomics.waitAsync does not keep a worker's event loop alive: the async waits must
  // hold a ref'd timer while parked, or a worker whose only work is the wait exits (code 13,
  // "unsettled top-level await") instead of being woken.
  it('control: a worker parked only in a bare Atomics.waitAsync exits before it is woken', async () => {
    const w = start(new SharedArrayBuffer(4), 'rawWaitAsync');
    await w.started;
    expect(await until(() => w.exitCode() !== undefined)).toBe(true);
    expect(w.exitCode()).toBe(13);
    expect(w.result()).toBeUndefined();
  }, 10_000);

  it('SharedMutex.lockAsync() keeps a waiting worker alive until the holder unlocks', async () => {
    const mutex = SharedMutex.create();
    const word = new Int32Array(mutex.buffer);
    mutex.lock();
    const w = start(mutex.buffer, 'lockAsync');
    await w.started;
    expect(await until(() => queued(word) === 2)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.exitCode()).toBeUndefined(); // still alive, still waiting
    expect(w.result()).toBeUndefined();
    mutex.unlock();
    expect(await until(() => w.result() === 'locked')).toBe(true);
    expect(await until(() => !mutex.locked)).toBe(true);
  }, 10_000);

  it('SharedSeqCount.readBeginWait() keeps a waiting worker alive until writeEnd()', async () => {
    const seq = SharedSeqCount.create();
    const words = new Int32Array(seq.buffer);
    seq.writeBegin();
    const w = start(seq.buffer, 'readBeginWait');
    await w.started;
    expect(await until(() => words[1] === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.exitCode()).toBeUndefined();
    expect(w.result()).toBeUndefined();
    seq.writeEnd();
    expect(await until(() => w.result() !== undefined)).toBe(true);
    expect(w.result()).toBe(2);
  }, 10_000);
});
