import { describe, expect, it } from 'vitest';
import { UnlockedReleaseError } from '../src/errors.js';
import { SharedMutex } from '../src/shared-mutex.js';

const settle = (ms = 5) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The lock word's fields (src/ticket-turn.ts): next ticket, ticket served, claimed. */
function fields(word: Int32Array) {
  const v = Atomics.load(word, 0);
  return { next: v >>> 16, serving: (v >>> 1) & 0x7fff, held: (v & 1) === 1 };
}

describe('SharedMutex (ticket lock, in one thread)', () => {
  it('hands out tickets and serves them in order: next, serving, held', () => {
    const m = SharedMutex.create();
    const word = new Int32Array(m.buffer);
    expect(word[0]).toBe(0); // all zero: free
    expect(m.tryLock()).toBe(true);
    expect(fields(word)).toEqual({ next: 1, serving: 0, held: true });
    expect(m.locked).toBe(true);
    expect(m.tryLock()).toBe(false);
    m.unlock();
    expect(fields(word)).toEqual({ next: 1, serving: 1, held: false });
    expect(m.locked).toBe(false);
    m.lock(); // uncontended: does not block
    expect(fields(word)).toEqual({ next: 2, serving: 1, held: true });
    m.unlock();
    expect(fields(word)).toEqual({ next: 2, serving: 2, held: false });
  });

  it('lockAsync() takes a ticket when called; unlock() hands the mutex over', async () => {
    const m = SharedMutex.create();
    const word = new Int32Array(m.buffer);
    m.lock();
    let acquired = false;
    const p = m.lockAsync().then(() => {
      acquired = true;
    });
    expect(fields(word)).toEqual({ next: 2, serving: 0, held: true }); // queued at once
    await settle();
    expect(acquired).toBe(false);
    m.unlock();
    await p;
    expect(acquired).toBe(true);
    expect(fields(word)).toEqual({ next: 2, serving: 1, held: true });
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('serves waiters first come, first served', async () => {
    const m = SharedMutex.create();
    m.lock();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) =>
      m.lockAsync().then(async () => {
        order.push(i);
        await settle(1);
        m.unlock();
      }),
    );
    m.unlock();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(m.locked).toBe(false);
  });

  it('once the turn has passed to a waiter, nobody can take the mutex ahead of it', async () => {
    const m = SharedMutex.create();
    const word = new Int32Array(m.buffer);
    m.lock();
    const p = m.lockAsync();
    m.unlock(); // the turn passes to the waiter, which has not run yet
    expect(fields(word)).toEqual({ next: 2, serving: 1, held: false });
    expect(m.locked).toBe(true);
    expect(m.tryLock()).toBe(false); // no barging
    // Nobody holds it, so an unlock() is a misuse: it throws and changes nothing.
    expect(() => m.unlock()).toThrow(UnlockedReleaseError);
    expect(fields(word)).toEqual({ next: 2, serving: 1, held: false });
    await p;
    expect(fields(word)).toEqual({ next: 2, serving: 1, held: true });
    m.unlock();
  });

  it('unlock() of an unlocked mutex throws UnlockedReleaseError and leaves it unlocked', () => {
    const m = SharedMutex.create();
    expect(() => m.unlock()).toThrow(UnlockedReleaseError);
    expect(() => m.unlock()).toThrow(/not locked/);
    expect(new Int32Array(m.buffer)[0]).toBe(0);
    expect(m.tryLock()).toBe(true);
  });

  it('keeps working across the wrap of the ticket fields (16-bit next, 15-bit served)', async () => {
    const sab = new SharedArrayBuffer(4);
    const word = new Int32Array(sab);
    word[0] = (0xfffe << 16) | (0x7ffe << 1); // free, two tickets before both fields wrap
    const m = SharedMutex.from(sab);
    expect(m.locked).toBe(false);
    m.lock();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) =>
      m.lockAsync().then(() => {
        order.push(i);
        m.unlock();
      }),
    );
    expect(fields(word)).toEqual({ next: 2, serving: 0x7ffe, held: true }); // next wrapped
    m.unlock();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(fields(word)).toEqual({ next: 2, serving: 2, held: false }); // served wrapped too
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

  it('claimTimeoutMs must be a non-negative number (Infinity allowed)', () => {
    const sab = new SharedArrayBuffer(4);
    for (const claimTimeoutMs of [-1, Number.NaN]) {
      expect(() => SharedMutex.from(sab, 0, { claimTimeoutMs })).toThrow(RangeError);
      expect(() => SharedMutex.create({ claimTimeoutMs })).toThrow(/claimTimeoutMs/);
    }
    expect(() => SharedMutex.from(sab, 0, { claimTimeoutMs: '5' as unknown as number })).toThrow(
      TypeError,
    );
    for (const claimTimeoutMs of [0, 0.5, Number.POSITIVE_INFINITY]) {
      expect(SharedMutex.from(sab, 0, { claimTimeoutMs }).locked).toBe(false);
    }
  });

  it('skips a turn left unclaimed for claimTimeoutMs (a waiter that went away)', async () => {
    const m = SharedMutex.create();
    const word = new Int32Array(m.buffer);
    m.lock();
    Atomics.add(word, 0, 0x10000); // a thread takes ticket 1 ... and is never heard from again
    m.unlock(); // the turn passes to ticket 1
    expect(m.tryLock()).toBe(false);
    const patient = SharedMutex.from(m.buffer, 0, { claimTimeoutMs: 30 });
    const t0 = performance.now();
    await patient.lockAsync(); // ticket 2: skips ticket 1 after 30 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(fields(word)).toEqual({ next: 3, serving: 2, held: true });
    patient.unlock();
    expect(m.locked).toBe(false);
  });
});
