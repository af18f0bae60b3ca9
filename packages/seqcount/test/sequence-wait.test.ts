import { afterEach, describe, expect, it, vi } from 'vitest';
import { SEQ, WAITERS, waitSequenceMove } from '../src/sequence-wait.js';
import { SharedSeqCount } from '../src/shared-seqcount.js';
import { playOtherThreadOnPark } from './other-thread.js';

// Readers waiting for a write section to end. The blocking waits run on this thread against a
// simulated writer thread (test/other-thread.ts); the async ones against a real waitAsync.

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('waitSequenceMove (blocking)', () => {
  it('returns the new value at once when the write already ended, without registering', () => {
    const seq = SharedSeqCount.create();
    const words = new Int32Array(seq.buffer);
    words[SEQ] = 2;
    const parks = playOtherThreadOnPark([]);
    expect(waitSequenceMove(words, 1)).toBe(2);
    expect(parks).toEqual([]);
    expect(words[WAITERS]).toBe(0);
  });

  it('parks registered in WAITERS, so writeEnd() wakes it; returns what the write left', () => {
    const writer = SharedSeqCount.create(); // the other thread's view
    const words = new Int32Array(writer.buffer);
    writer.writeBegin();
    let waitersWhileParked = -1;
    const parks = playOtherThreadOnPark([
      () => {
        waitersWhileParked = Atomics.load(words, WAITERS);
        writer.writeEnd();
      },
    ]);
    expect(waitSequenceMove(words, 1)).toBe(2);
    expect(parks.map((p) => [p.index, p.value, p.timeout])).toEqual([
      [SEQ, 1, Number.POSITIVE_INFINITY],
    ]);
    expect(waitersWhileParked).toBe(1);
    expect(words[WAITERS]).toBe(0);
  });
});

describe("SharedSeqCount.readBegin() during another thread's writes", () => {
  it('waits for every write section in a row and returns the even sequence', () => {
    const writer = SharedSeqCount.create();
    const reader = SharedSeqCount.from(writer.buffer);
    writer.writeBegin();
    playOtherThreadOnPark([
      () => {
        writer.writeEnd();
        writer.writeBegin(); // the next write begins before the reader runs again
      },
      () => writer.writeEnd(),
    ]);
    expect(reader.readBegin()).toBe(4);
    expect(new Int32Array(writer.buffer)[WAITERS]).toBe(0);
  });
});

describe('SharedSeqCount.readBeginWait() (async)', () => {
  it('counts itself in WAITERS only while parked', async () => {
    const seq = SharedSeqCount.create();
    const words = new Int32Array(seq.buffer);
    seq.writeBegin();
    const read = seq.readBeginWait();
    await tick();
    expect(words[WAITERS]).toBe(1);
    seq.writeEnd();
    expect(await read).toBe(2);
    expect(words[WAITERS]).toBe(0);
  });
});
