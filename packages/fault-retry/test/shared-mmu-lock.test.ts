import { Worker } from 'node:worker_threads';
import { Mutex } from 'async-mutex';
import { describe, expect, it } from 'vitest';
import { LockNotHeldError, type MmuLock, SharedMmuLock } from '../src/index.js';

const LOCK_WORKER = new URL('./workers/lock-worker.mjs', import.meta.url);

describe('SharedMmuLock in one thread', () => {
  it('locks, refuses a second tryLock, and unlocks', () => {
    const lock = SharedMmuLock.create();
    expect(lock.locked).toBe(false);
    expect(lock.tryLock()).toBe(true);
    expect(lock.locked).toBe(true);
    expect(lock.tryLock()).toBe(false);
    lock.unlock();
    expect(lock.locked).toBe(false);
    lock.lock();
    expect(lock.locked).toBe(true);
    lock.unlock();
  });

  it('unlock() of a free lock throws LockNotHeldError and leaves it free', () => {
    const lock = SharedMmuLock.create();
    expect(() => lock.unlock()).toThrow(LockNotHeldError);
    expect(lock.locked).toBe(false);
    expect(lock.tryLock()).toBe(true);
  });

  it('acquire() resolves to a release function that works exactly once', async () => {
    const lock = SharedMmuLock.create();
    const release = await lock.acquire();
    expect(lock.locked).toBe(true);
    release();
    expect(lock.locked).toBe(false);
    expect(() => release()).toThrow(LockNotHeldError);
    expect(lock.locked).toBe(false);
  });

  it('acquire() waits for the holder and hands the lock over in order', async () => {
    const lock = SharedMmuLock.create();
    const order: string[] = [];
    const first = await lock.acquire();
    const second = lock.acquire().then((release) => {
      order.push('second has it');
      release();
    });
    await new Promise((r) => setTimeout(r, 10));
    order.push('first releases');
    first();
    await second;
    expect(order).toEqual(['first releases', 'second has it']);
    expect(lock.locked).toBe(false);
  });

  it('from() shares the lock word; a zero-filled word is unlocked', () => {
    const buffer = new SharedArrayBuffer(16);
    const a = SharedMmuLock.from(buffer, 8);
    const b = SharedMmuLock.from(buffer, 8);
    expect(a.byteOffset).toBe(8);
    expect(b.locked).toBe(false);
    a.lock();
    expect(b.locked).toBe(true);
    expect(b.tryLock()).toBe(false);
    b.unlock(); // no owner tracking, as with a kernel spinlock
    expect(a.locked).toBe(false);
    expect(SharedMmuLock.from(buffer, 0).locked).toBe(false);
  });

  it.each([
    [new ArrayBuffer(4), 0, TypeError, /SharedArrayBuffer/],
    [new SharedArrayBuffer(8), 2, RangeError, /multiple of 4/],
    [new SharedArrayBuffer(8), -4, RangeError, /multiple of 4/],
    [new SharedArrayBuffer(8), 8, RangeError, /needs 4 bytes/],
    [new SharedArrayBuffer(8), '0', TypeError, /byteOffset must be a number/],
  ])('from(%o, %o) throws', (buffer, offset, type, message) => {
    expect(() => SharedMmuLock.from(buffer as SharedArrayBuffer, offset as number)).toThrow(type);
    expect(() => SharedMmuLock.from(buffer as SharedArrayBuffer, offset as number)).toThrow(
      message,
    );
  });

  it('satisfies MmuLock, like async-mutex', () => {
    const locks: MmuLock[] = [SharedMmuLock.create(), new Mutex()];
    expect(locks.every((l) => typeof l.acquire === 'function')).toBe(true);
  });
});

async function contend(mode: 'blocking' | 'async' | 'none', rounds: number) {
  const lock = SharedMmuLock.create();
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const go = new Int32Array(new SharedArrayBuffer(4));
  const workers = [0, 1].map(
    () =>
      new Worker(LOCK_WORKER, {
        workerData: {
          lockBuffer: lock.buffer,
          counterBuffer: counter.buffer,
          goBuffer: go.buffer,
          rounds,
          mode,
        },
      }),
  );
  const said = (w: Worker, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lock worker did not say ${what}`)), 15_000);
      w.on('message', (m) => {
        if (m !== what) return;
        clearTimeout(timer);
        resolve();
      });
      w.on('error', reject);
    });
  try {
    const done = workers.map((w) => said(w, 'done'));
    await Promise.all(workers.map((w) => said(w, 'ready')));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    // The main thread competes too, through acquire() (Atomics.waitAsync).
    const mine = (async () => {
      for (let i = 0; i < rounds / 10; i++) {
        const release = mode === 'none' ? () => {} : await lock.acquire();
        const value = counter[0]!;
        await Promise.resolve();
        counter[0] = value + 1;
        release();
      }
    })();
    await Promise.all([mine, ...done]);
    return { count: Atomics.load(counter, 0), expected: 2 * rounds + rounds / 10, lock };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe('SharedMmuLock across worker threads', () => {
  it('excludes: 2 workers with lock() + the main thread with acquire() lose no update', {
    timeout: 20_000,
  }, async () => {
    const { count, expected, lock } = await contend('blocking', 20_000);
    expect(count).toBe(expected);
    expect(lock.locked).toBe(false);
  });

  it('excludes with acquire() in the workers too', { timeout: 20_000 }, async () => {
    const { count, expected } = await contend('async', 5_000);
    expect(count).toBe(expected);
  });

  it('negative control: without the lock, updates are lost', { timeout: 20_000 }, async () => {
    // Threads that start late can miss each other on a loaded machine: try a few times.
    let lost = 0;
    for (let attempt = 0; attempt < 5 && lost === 0; attempt++) {
      const { count, expected } = await contend('none', 200_000);
      lost = expected - count;
    }
    expect(lost).toBeGreaterThan(0);
  });
});
