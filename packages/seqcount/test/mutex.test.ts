import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnlockedReleaseError } from '../src/errors.js';
import { Mutex } from '../src/mutex.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Mutex', () => {
  it('tryLock takes a free mutex and fails on a held one without queueing', () => {
    const m = new Mutex();
    expect(m.tryLock()).toBe(true);
    expect(m.locked).toBe(true);
    expect(m.tryLock()).toBe(false);
    expect(m.waiting).toBe(0);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('hands the mutex to waiters in arrival order; tryLock cannot barge in between', async () => {
    const m = new Mutex();
    const order: number[] = [];
    m.tryLock();
    const waiters = [1, 2, 3].map((i) =>
      m.lock().then(() => {
        order.push(i);
        m.unlock();
      }),
    );
    expect(m.waiting).toBe(3);
    m.unlock(); // handed to waiter 1: still locked
    expect(m.locked).toBe(true);
    expect(m.tryLock()).toBe(false);
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(m.locked).toBe(false);
  });

  it('unlock of a free mutex is an UnlockedReleaseError and changes nothing', () => {
    const m = new Mutex();
    expect(() => m.unlock()).toThrow(UnlockedReleaseError);
    expect(m.locked).toBe(false);
    expect(m.tryLock()).toBe(true);
  });

  it('acquire() resolves to a release function that unlocks once', async () => {
    const m = new Mutex();
    const release = await m.acquire();
    expect(m.locked).toBe(true);
    release();
    release(); // idempotent: does not unlock someone else's hold
    expect(m.locked).toBe(false);
    m.tryLock();
    release();
    expect(m.locked).toBe(true);
  });

  it('runExclusive holds the mutex around fn and unlocks when it throws', async () => {
    const m = new Mutex();
    await expect(
      m.runExclusive(async () => {
        expect(m.locked).toBe(true);
        await flush();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(m.locked).toBe(false);
    expect(await m.runExclusive(() => 7)).toBe(7);
    await expect(m.runExclusive(undefined as never)).rejects.toThrow(TypeError);
  });

  /** Tasks that each increment a counter in two halves across an await, under `lock`. */
  function exclusion(useLock: boolean) {
    return fc.asyncProperty(fc.scheduler(), async (s) => {
      const m = new Mutex();
      let inside = 0;
      let maxInside = 0;
      const task = async () => {
        if (useLock && !m.tryLock()) await m.lock();
        inside++;
        maxInside = Math.max(maxInside, inside);
        await s.schedule(Promise.resolve());
        inside--;
        if (useLock) m.unlock();
      };
      await s.waitFor(Promise.all([task(), task(), task()]));
      expect(maxInside).toBe(1);
      expect(m.locked).toBe(false);
    });
  }

  it('excludes across awaits in every explored interleaving', async () => {
    await fc.assert(exclusion(true), { numRuns: 200 });
  });

  it('negative control: the same tasks without the lock overlap', async () => {
    const out = await fc.check(exclusion(false), { numRuns: 200 });
    expect(out.failed).toBe(true);
  });
});
