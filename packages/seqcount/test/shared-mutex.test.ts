import { describe, expect, it } from 'vitest';
import { UnlockedReleaseError } from '../src/errors.js';
import { SharedMutex } from '../src/shared-mutex.js';

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('SharedMutex (futex-style, in one thread)', () => {
  it('moves the lock word through 0 (free), 1 (held) and back', () => {
    const m = SharedMutex.create();
    const word = new Int32Array(m.buffer);
    expect(m.tryLock()).toBe(true);
    expect(word[0]).toBe(1);
    expect(m.locked).toBe(true);
    expect(m.tryLock()).toBe(false);
    m.unlock();
    expect(word[0]).toBe(0);
    m.lock(); // uncontended: does not block
    expect(word[0]).toBe(1);
    m.unlock();
  });

  it('lockAsync() marks the word contended (2), and unlock() hands the mutex over', async () => {
    const m = SharedMutex.create();
    const word = new Int32Array(m.buffer);
    m.lock();
    let acquired = false;
    const p = m.lockAsync().then(() => {
      acquired = true;
    });
    await settle();
    expect(acquired).toBe(false);
    expect(word[0]).toBe(2);
    m.unlock();
    await p;
    expect(acquired).toBe(true);
    expect(m.locked).toBe(true);
    m.unlock();
    expect(word[0]).toBe(0);
  });

  it('unlock() of an unlocked mutex throws UnlockedReleaseError and leaves it unlocked', () => {
    const m = SharedMutex.create();
    expect(() => m.unlock()).toThrow(UnlockedReleaseError);
    expect(() => m.unlock()).toThrow(/not locked/);
    expect(new Int32Array(m.buffer)[0]).toBe(0);
    expect(m.tryLock()).toBe(true);
  });

  it('from() validates like SharedSeqCount.from()', () => {
    expect(() => SharedMutex.from(new ArrayBuffer(4) as unknown as SharedArrayBuffer)).toThrow(
      TypeError,
    );
    expect(() => SharedMutex.from(new SharedArrayBuffer(8), 2)).toThrow(RangeError);
    expect(() => SharedMutex.from(new SharedArrayBuffer(8), 8)).toThrow(/needs 4 bytes/);
    expect(SharedMutex.from(new SharedArrayBuffer(8), 4).byteOffset).toBe(4);
  });
});
