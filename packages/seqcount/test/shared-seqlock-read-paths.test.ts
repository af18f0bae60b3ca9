import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedMutex } from '../src/shared-mutex.js';
import { SharedSeqCount } from '../src/shared-seqcount.js';
import { SharedSeqLock, type SharedSeqLockOptions } from '../src/shared-seqlock.js';
import { playOtherThreadOnPark } from './other-thread.js';

// Which path a SharedSeqLock read takes when another thread writes: lockless after the write in
// progress, or straight to the writer lock when writers run back to back. The other thread's
// writer is played step by step on this thread (its own views of the lock's words); read()
// blocks only in simulated waits (test/other-thread.ts), readAsync() in real waitAsync calls.

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

function setup(options?: SharedSeqLockOptions) {
  const sab = new SharedArrayBuffer(SharedSeqLock.BYTES + 8);
  const lock = SharedSeqLock.from(sab, 0, options);
  const rec = new Int32Array(sab, SharedSeqLock.BYTES, 2);
  const lockWord = new Int32Array(sab, 8, 1);
  const mutex = SharedMutex.from(sab, 8);
  const seq = SharedSeqCount.from(sab);
  /** The other thread's write of `v` to both words, in two halves. */
  const other = {
    begin(v: number) {
      mutex.lock();
      seq.writeBegin();
      Atomics.store(rec, 0, v);
    },
    end(v: number) {
      Atomics.store(rec, 1, v);
      seq.writeEnd();
      mutex.unlock();
    },
  };
  /** Each call of the reader: held = it ran holding the writer lock. */
  const calls: Array<{ held: boolean }> = [];
  const reader = () => {
    calls.push({ held: (Atomics.load(lockWord, 0) & 1) === 1 });
    return [Atomics.load(rec, 0), Atomics.load(rec, 1)];
  };
  return { lock, mutex, lockWord, other, calls, reader };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SharedSeqLock.read() (blocking) against another thread', () => {
  it('waits for the write in progress, then reads once, locklessly', () => {
    const { lock, other, calls, reader } = setup();
    other.begin(1);
    const parks = playOtherThreadOnPark([() => other.end(1)]);
    expect(lock.read(reader)).toEqual([1, 1]);
    expect(calls).toEqual([{ held: false }]);
    expect(parks.map((p) => p.words.byteOffset)).toEqual([0]); // parked on the sequence
  });

  it('takes the writer lock at once when the next write began before it looked again', () => {
    const { lock, mutex, other, calls, reader } = setup();
    other.begin(1);
    const parks = playOtherThreadOnPark([
      () => {
        other.end(1);
        other.begin(2);
      },
      () => other.end(2),
    ]);
    expect(lock.read(reader)).toEqual([2, 2]);
    expect(calls).toEqual([{ held: true }]);
    // Parked on the sequence, then on the writer lock (at byte 8).
    expect(parks.map((p) => p.words.byteOffset)).toEqual([0, 8]);
    expect(mutex.locked).toBe(false);
  });

  it('an error from an attempt that overlapped no write propagates after one call, lock free', () => {
    const { lock, mutex } = setup();
    let calls = 0;
    expect(() =>
      lock.read(() => {
        calls++;
        throw new Error('reader bug');
      }),
    ).toThrow('reader bug');
    expect(calls).toBe(1);
    expect(mutex.locked).toBe(false);
  });

  it('the locked fallback and readExclusive() release the writer lock, also on error', () => {
    const { lock, mutex, lockWord } = setup({ maxOptimisticReads: 0 });
    expect(lock.read(() => Atomics.load(lockWord, 0) & 1)).toBe(1);
    expect(mutex.locked).toBe(false);
    expect(lock.readExclusive(() => 'x')).toBe('x');
    expect(mutex.locked).toBe(false);
    expect(() =>
      lock.readExclusive(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(mutex.locked).toBe(false);
  });
});

describe('SharedSeqLock.readAsync() against another thread', () => {
  it('runs at once on an idle lock', async () => {
    const { lock, calls, reader } = setup();
    let value: number[] | undefined;
    void lock.readAsync(reader).then((v) => {
      value = v;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(value).toEqual([0, 0]);
    expect(calls).toEqual([{ held: false }]);
  });

  it('waits for the write in progress, then reads once, locklessly', async () => {
    const { lock, other, calls, reader } = setup();
    other.begin(1);
    const read = lock.readAsync(reader);
    await tick();
    expect(calls).toEqual([]);
    other.end(1);
    expect(await read).toEqual([1, 1]);
    expect(calls).toEqual([{ held: false }]);
  });

  it('takes the writer lock at once when the next write began before it looked again', async () => {
    const { lock, mutex, other, calls, reader } = setup();
    other.begin(1);
    const read = lock.readAsync(reader);
    await tick();
    other.end(1);
    other.begin(2); // before the reader's continuation runs
    await tick();
    expect(calls).toEqual([]); // queued for the writer lock
    other.end(2);
    expect(await read).toEqual([2, 2]);
    expect(calls).toEqual([{ held: true }]);
    expect(mutex.locked).toBe(false);
  });

  it('retries an attempt that a write overlapped', async () => {
    const { lock, other, calls, reader } = setup();
    const value = await lock.readAsync(() => {
      const r = reader();
      if (calls.length === 1) {
        other.begin(5);
        other.end(5);
      }
      return r;
    });
    expect(value).toEqual([5, 5]);
    expect(calls).toEqual([{ held: false }, { held: false }]);
  });

  it('validates a synchronous reader before any other microtask runs', async () => {
    const { lock, calls, reader } = setup();
    const value = await lock.readAsync(() => {
      if (calls.length === 0) queueMicrotask(() => lock.write(() => {})); // right after it
      return reader();
    });
    expect(value).toEqual([0, 0]);
    expect(calls).toEqual([{ held: false }]); // accepted before that write began
    expect(lock.sequence).toBe(2);
  });

  it('an error from an attempt that overlapped no write rejects after one call', async () => {
    const { lock, mutex } = setup();
    let calls = 0;
    await expect(
      lock.readAsync(() => {
        calls++;
        throw new Error('reader bug');
      }),
    ).rejects.toThrow('reader bug');
    expect(calls).toBe(1);
    expect(mutex.locked).toBe(false);
  });

  it('the locked fallback releases the writer lock', async () => {
    const { lock, mutex, lockWord } = setup({ maxOptimisticReads: 0 });
    expect(await lock.readAsync(() => Atomics.load(lockWord, 0) & 1)).toBe(1);
    expect(mutex.locked).toBe(false);
  });
});

describe('SharedSeqLock options reach the parts they configure', () => {
  it("claimTimeoutMs: write() skips a dead writer's unclaimed turn without parking when it is 0", () => {
    const { lock, lockWord } = setup({ claimTimeoutMs: 0 });
    lockWord[0] = 0x10000; // ticket 0 was served; its thread died before claiming it
    const parks = playOtherThreadOnPark([]);
    lock.write(() => {});
    expect(parks).toEqual([]);
    expect(lock.sequence).toBe(2);
    expect(lockWord[0]).toBe((2 << 16) | (2 << 1)); // tickets 0 and 1 served, free
  });

  for (const [options, fenced] of [
    [undefined, 1],
    [{ atomicData: false }, 1],
    [{ atomicData: true }, 0],
  ] as const) {
    it(`atomicData ${String(options?.atomicData)}: validates with ${fenced ? 'a read-modify-write' : 'a plain load'}`, async () => {
      const { lock } = setup(options);
      const add = vi.spyOn(Atomics, 'add');
      lock.read(() => 0);
      await lock.readAsync(() => 0);
      const rmwOfSequence = add.mock.calls.filter(
        ([words, index, value]) => words.byteOffset === 0 && index === 0 && Number(value) === 0,
      );
      expect(rmwOfSequence).toHaveLength(2 * fenced);
    });
  }
});
