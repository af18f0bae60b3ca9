import { describe, expect, it } from 'vitest';
import { loadWords, storeWords } from '../src/atomic-words.js';
import { SharedMutex } from '../src/shared-mutex.js';
import { SharedSeqLock } from '../src/shared-seqlock.js';

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('SharedSeqLock (in one thread)', () => {
  it('lays out sequence, waiter count and lock word in its 12 bytes', () => {
    const sab = new SharedArrayBuffer(16);
    const words = new Int32Array(sab);
    const lock = SharedSeqLock.from(sab, 4);
    expect(lock.byteOffset).toBe(4);
    lock.write(() => {
      // sequence odd; lock word: next ticket 1, ticket 0 served and held
      expect([...words]).toEqual([0, 1, 0, 0x10001]);
    });
    expect([...words]).toEqual([0, 2, 0, 0x10002]); // ticket 1 served, not held: free
  });

  it("write() and read() move the sequence by 2 and return the callbacks' results", () => {
    const lock = SharedSeqLock.create();
    const rec = new Int32Array(new SharedArrayBuffer(8));
    expect(lock.write(() => storeWords(rec, 0, [3, 4]))).toBeUndefined();
    expect(lock.read(() => Atomics.load(rec, 0) + Atomics.load(rec, 1))).toBe(7);
    expect(lock.sequence).toBe(2);
    expect(lock.readRetry(lock.readBegin())).toBe(false);
    expect(lock.readRetryFenced(lock.readBegin())).toBe(false);
    expect(lock.readRetryFenced(0)).toBe(true);
  });

  it('closes the section and releases the lock when the writer throws', () => {
    const lock = SharedSeqLock.create();
    expect(() =>
      lock.write(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(lock.sequence).toBe(2);
    expect(SharedMutex.from(lock.buffer, 8).locked).toBe(false);
  });

  it('read() retries when fn throws on data torn by a write that overlapped it, rethrows otherwise', () => {
    const lock = SharedSeqLock.create();
    let calls = 0;
    const value = lock.read(() => {
      calls++;
      if (calls === 1) {
        // Simulate a writer on another thread that ran during this attempt.
        lock.write(() => {});
        throw new Error('garbage');
      }
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(2);
    expect(() =>
      lock.read(() => {
        throw new Error('real bug');
      }),
    ).toThrow('real bug');
  });

  for (const atomicData of [false, true]) {
    it(`read() falls back to the writer lock after maxOptimisticReads failed attempts (atomicData ${atomicData})`, () => {
      const lock = SharedSeqLock.create({ maxOptimisticReads: 2, atomicData });
      const words = new Int32Array(lock.buffer);
      let calls = 0;
      const lockWordDuringCalls: number[] = [];
      lock.read(() => {
        calls++;
        lockWordDuringCalls.push(words[2] as number);
        if (calls <= 2) lock.write(() => {}); // every optimistic attempt overlaps a write
      });
      expect(calls).toBe(3);
      // The third ran holding the lock (the lock word's bit 0).
      expect(lockWordDuringCalls.map((word) => word & 1)).toEqual([0, 0, 1]);
    });
  }

  it('writeAsync() keeps the sequence odd across awaits; readAsync() waits for it', async () => {
    const lock = SharedSeqLock.create();
    const rec = new Int32Array(new SharedArrayBuffer(8));
    const w = lock.writeAsync(async () => {
      Atomics.store(rec, 0, 1);
      await settle();
      Atomics.store(rec, 1, 1);
    });
    await settle();
    expect(lock.writing).toBe(true);
    const out = new Int32Array(2);
    const r = lock.readAsync(() => loadWords(rec, 0, out));
    await Promise.all([w, r]);
    expect([...out]).toEqual([1, 1]);
    expect(lock.sequence).toBe(2);
  });

  it('readAsync() with maxOptimisticReads 0 reads under the lock, after the writer', async () => {
    const lock = SharedSeqLock.create({ maxOptimisticReads: 0 });
    let v = 0;
    const w = lock.writeAsync(async () => {
      await settle();
      v = 1;
    });
    await expect(lock.readAsync(async () => v)).resolves.toBe(1);
    await w;
  });

  it('rejects bad options and buffers before creating anything', () => {
    expect(() => SharedSeqLock.create({ maxOptimisticReads: -1 })).toThrow(RangeError);
    expect(() => SharedSeqLock.create({ maxOptimisticReads: '2' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => SharedSeqLock.create({ claimTimeoutMs: -1 })).toThrow(/SharedSeqLock.create/);
    expect(() => SharedSeqLock.from(new SharedArrayBuffer(8))).toThrow(/needs 12 bytes/);
    expect(() => SharedSeqLock.from(new SharedArrayBuffer(16), 6)).toThrow(/multiple of 4/);
    expect(() => SharedSeqLock.from(new ArrayBuffer(16) as unknown as SharedArrayBuffer)).toThrow(
      TypeError,
    );
  });
});
