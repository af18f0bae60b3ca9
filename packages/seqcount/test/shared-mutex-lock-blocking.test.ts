import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedMutex } from '../src/shared-mutex.js';
import { playOtherThreadOnPark } from './other-thread.js';

// The blocking lock() on this thread (Node allows Atomics.wait on the main thread). The
// worker tests drive it through dist/, which mutation testing never reaches; here it runs from
// src/, and every wait is bounded: a real one with a timeout, or a simulated other thread.

/** A lock word: next ticket, ticket served, claimed (src/ticket-turn.ts). */
const word = (next: number, serving: number, held = false) =>
  ((next & 0xffff) << 16) | ((serving & 0x7fff) << 1) | (held ? 1 : 0);

function fields(w: Int32Array) {
  const v = Atomics.load(w, 0);
  return { next: v >>> 16, serving: (v >>> 1) & 0x7fff, held: (v & 1) === 1 };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SharedMutex.lock() when it has to wait', () => {
  it('blocks for claimTimeoutMs on a turn nobody claims, then skips it and holds the mutex', () => {
    const m = SharedMutex.create({ claimTimeoutMs: 30 });
    const w = new Int32Array(m.buffer);
    w[0] = word(1, 0); // ticket 0 was served, its thread went away without claiming it
    const t0 = performance.now();
    m.lock(); // ticket 1: a real Atomics.wait of about 30 ms, then the skip
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(fields(w)).toEqual({ next: 2, serving: 1, held: true });
    expect(m.tryLock()).toBe(false);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('next in line behind a holder: parks with no timeout and claims once the holder unlocks', () => {
    const m = SharedMutex.create({ claimTimeoutMs: 0 }); // a holder is never skipped
    const w = new Int32Array(m.buffer);
    const holder = SharedMutex.from(m.buffer); // another thread's view
    holder.lock();
    const parks = playOtherThreadOnPark([() => holder.unlock()]);
    m.lock();
    expect(parks.map((p) => [p.index, p.value, p.timeout])).toEqual([
      [0, word(2, 0, true), Number.POSITIVE_INFINITY],
    ]);
    expect(fields(w)).toEqual({ next: 2, serving: 1, held: true });
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('further back in line: waits out each holder in turn', () => {
    const m = SharedMutex.create();
    const w = new Int32Array(m.buffer);
    const other = SharedMutex.from(m.buffer);
    other.lock(); // ticket 0 holds
    Atomics.add(w, 0, 0x10000); // ticket 1: another thread waiting
    const parks = playOtherThreadOnPark([
      () => other.unlock(), // ticket 0 unlocks; ticket 1 ...
      () => Atomics.or(w, 0, 1), // ... claims,
      () => other.unlock(), // ... and unlocks
    ]);
    m.lock(); // ticket 2
    expect(parks.map((p) => p.value)).toEqual([word(3, 0, true), word(3, 1), word(3, 1, true)]);
    expect(parks[1]?.timeout).toBeGreaterThan(0); // the unclaimed turn: a bounded wait
    expect(fields(w)).toEqual({ next: 3, serving: 2, held: true });
    m.unlock();
  });
});
